// Package layouts holds the page frames: the HTML document, the console with its navigation and
// the small card layout of sign-in and error pages.
package layouts
