// Package ssopage is the Single Sign-On tab of Access > Directory Services: the account's
// OpenID provider, its Test result and the redirect URI to paste into the provider.
package ssopage
