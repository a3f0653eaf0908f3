package models

import "time"

// EventStream is event streaming's own events: a destination created, changed or deleted, and
// test events sent.
const EventStream EventType = "Event Streaming"

// Sub-types of EventStream, and the registration code expiry notices that streaming brought.
const (
	SubStreamCreated  = "Destination Created"
	SubStreamUpdated  = "Destination Updated"
	SubStreamEnabled  = "Destination Enabled"
	SubStreamDisabled = "Destination Disabled"
	SubStreamDeleted  = "Destination Deleted"
	SubStreamTest     = "Test Event Sent"

	// SubCodeExpiring: a code still unused 24 hours before its expiry (once per code).
	SubCodeExpiring = "Expiring"
	// SubCodeExpired: a code that expired unused (once per code).
	SubCodeExpired = "Expired"
)

// StreamKind is how a destination receives events.
type StreamKind string

const (
	// StreamWebhook posts each event as JSON to an HTTPS URL, signed (Onramp-Signature).
	StreamWebhook StreamKind = "webhook"
	// StreamSyslog sends each event as an RFC 5424 message over TCP or TLS (RFC 6587 framing).
	StreamSyslog StreamKind = "syslog"
)

// StreamDestination is where an account's events are streamed to. SecretSealed is a webhook's
// signing secret sealed with the account id as associated data; it is shown once, at creation.
type StreamDestination struct {
	ID              int64
	AccountID       int64
	Kind            StreamKind
	Name            string
	URL             string `gorm:"column:url"`
	SecretSealed    string
	Enabled         bool
	LastError       string
	LastDeliveredAt *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// TableName names the table.
func (StreamDestination) TableName() string { return "stream_destinations" }

// StreamFilter is one kind of event a destination wants: a type, and a sub-type or "" for all of
// the type's. A destination without filters wants every event.
type StreamFilter struct {
	DestinationID int64  `gorm:"primaryKey;autoIncrement:false"`
	Type          string `gorm:"primaryKey"`
	SubType       string `gorm:"primaryKey"`
}

// TableName names the table.
func (StreamFilter) TableName() string { return "stream_filters" }

// StreamAttempt is one delivery attempt of the delivery log: the response's status (HTTP) and
// the start of its body, or the error. EventID is 0 for a test event.
type StreamAttempt struct {
	ID            int64
	DestinationID int64
	EventID       int64
	AttemptedAt   time.Time
	OK            bool `gorm:"column:ok"`
	Status        int
	Excerpt       string
}

// TableName names the table.
func (StreamAttempt) TableName() string { return "stream_attempts" }
