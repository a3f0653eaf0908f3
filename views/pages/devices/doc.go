// Package devices renders the account's Devices page: every VPN client device with its user,
// the filters, and signing out one device or the selected ones.
package devices
