// Package events renders Event Discovery: the filtered list with its counts per kind, and one
// event.
package events
