// Package clientaccess renders Access > Client Access: how users get the VPN client onto their
// devices, with the User Provisioning section ("Generate Registration Code For New Users" and
// the progress of the latest run).
package clientaccess
