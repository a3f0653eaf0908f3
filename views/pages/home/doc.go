// Package home renders the console's overview page.
package home
