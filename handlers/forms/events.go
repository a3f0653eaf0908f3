package forms

// EventFilter is Event Discovery's filter: the query string of /events and /events.csv.
type EventFilter struct {
	Range     string `query:"range"`
	From      string `query:"from"`
	To        string `query:"to"`
	Type      string `query:"type"`
	SubType   string `query:"subtype"`
	User      string `query:"user"`
	ActorType string `query:"actor_type"`
	Actor     string `query:"actor"`
	Q         string `query:"q"`
	After     string `query:"after"`
}
