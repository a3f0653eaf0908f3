package forms

// Retention is the Data Retention settings form: whole numbers of days, as typed.
type Retention struct {
	EventDays    string `form:"event_retention_days"`
	MailBodyDays string `form:"mail_body_retention_days"`
}
