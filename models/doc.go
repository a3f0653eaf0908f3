// Package models holds Onramp's domain: the types every layer shares (accounts, admins, sessions,
// events), their states and the errors services return. It depends on nothing above it: no HTTP,
// no templates, no database driver.
package models
