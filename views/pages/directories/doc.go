// Package directories renders the Directory Sync tab of Access > Directory Services: the
// account's directories, their SCIM tokens, and a new token shown once.
package directories
