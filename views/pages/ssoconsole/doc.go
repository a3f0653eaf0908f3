// Package ssoconsole is the Console sign-in page of Access > Directory Services > Single
// Sign-On: how admins sign in to the console (with the identity provider, with a password, the
// break-glass admins, admins created from the groups claim).
package ssoconsole
