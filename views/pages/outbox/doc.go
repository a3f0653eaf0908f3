// Package outbox renders the Outbox: every email the account sent or is sending, its delivery
// status, and one message with its text part and links.
package outbox
