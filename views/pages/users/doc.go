// Package users renders the Users pages: the list with its filters and Actions menu, the New
// user form and the user page.
package users
