// Package confirm renders the no-JavaScript confirmation page of any warning.
package confirm
