// Package apitokens is the console's Settings > API tokens page: the account's tokens of the
// admin REST API, the form that creates one, and the page that shows a new token once.
package apitokens
