// Package errors renders the 403, 404, 429 and 500 pages.
package errors
