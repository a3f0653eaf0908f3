package events

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"onramp/models"
	"onramp/models/csvsafe"
	"onramp/models/store"
	"onramp/models/text"
)

const (
	// PageSize is how many events a page of Event Discovery holds.
	PageSize = 50
	// CountCap is where the count of one kind stops ("10,000+"). An index-only count costs about
	// 0.2 µs per event, and 30 days of a 10,000,000-event account hold 5,000,000: exact counts
	// would take a second. At 10,000 per kind the counts of the default week take about 30 ms at
	// that size; at 100,000, 140 ms (400 ms for 30 days). See docs/benchmarks.md.
	CountCap = 10_000
	// exportBatch is how many rows one query of the CSV export reads.
	exportBatch = 1000
	// maxText bounds the free-text fields (an email is at most 254 characters).
	maxText = 320
)

// Range is a time range of the filter: a preset relative to now, or custom.
type Range string

const (
	RangeHour   Range = "1h"
	RangeDay    Range = "24h"
	RangeWeek   Range = "7d"
	RangeMonth  Range = "30d"
	RangeAll    Range = "all"
	RangeCustom Range = "custom"
	// DefaultRange is the range of /events without parameters.
	DefaultRange = RangeWeek
)

// Ranges are the choices of the time range menu, in order.
var Ranges = []Range{RangeHour, RangeDay, RangeWeek, RangeMonth, RangeAll, RangeCustom}

// Label is how the menu shows a range.
func (r Range) Label() string {
	switch r {
	case RangeHour:
		return "Last hour"
	case RangeDay:
		return "Last 24 hours"
	case RangeWeek:
		return "Last 7 days"
	case RangeMonth:
		return "Last 30 days"
	case RangeAll:
		return "All time"
	case RangeCustom:
		return "Custom"
	}
	return string(r)
}

func (r Range) span() time.Duration {
	switch r {
	case RangeHour:
		return time.Hour
	case RangeDay:
		return 24 * time.Hour
	case RangeWeek:
		return 7 * 24 * time.Hour
	case RangeMonth:
		return 30 * 24 * time.Hour
	}
	return 0
}

// Types are the event types the menu offers (besides any other type the account's events have).
var Types = []models.EventType{models.EventAdmin, models.EventUser, models.EventPortal, models.EventCode,
	models.EventDevice, models.EventClient, models.EventDirectory, models.EventDirectorySync, models.EventGroup,
	models.EventSSO, models.EventAPI, models.EventStream}

// ActorTypes are the kinds of actor the menu offers.
var ActorTypes = []models.ActorType{models.ActorAdmin, models.ActorHelpdesk, models.ActorUser, models.ActorClient, models.ActorSystem,
	models.ActorDirectory, models.ActorAPIToken}

// Criteria are the filter as typed: the query string of /events and /events.csv.
type Criteria struct {
	Range     string
	From, To  string // custom range bounds, UTC: 2006-01-02T15:04 (datetime-local), seconds or a date alone also do
	Type      string
	SubType   string
	User      string // an SDP user's email or id
	ActorType string
	Actor     string // the actor's email (or label)
	Q         string // the start of the email
}

// summary lists the criteria that are set, as name=value pairs, for the export's event.
func (c Criteria) summary() string {
	var parts []string
	for _, p := range [][2]string{{"range", c.Range}, {"from", c.From}, {"to", c.To}, {"type", c.Type}, {"subtype", c.SubType},
		{"user", c.User}, {"actor_type", c.ActorType}, {"actor", c.Actor}, {"q", c.Q}} {
		if p[1] != "" {
			parts = append(parts, p[0]+"="+p[1])
		}
	}
	if len(parts) == 0 {
		return "range=" + string(DefaultRange)
	}
	return text.Shorten(strings.Join(parts, " "), 500)
}

// Custom reports whether the criteria use the from / to bounds.
func (c Criteria) Custom() bool { return Range(c.Range) == RangeCustom }

// Narrowed reports whether anything but the default time range narrows the list.
func (c Criteria) Narrowed() bool {
	return (c.Range != "" && Range(c.Range) != DefaultRange) || c.Type != "" || c.SubType != "" || c.User != "" ||
		c.ActorType != "" || c.Actor != "" || c.Q != ""
}

// Window is the time range a filter covers.
type Window struct {
	From, To time.Time // zero: unbounded (To: up to now)
}

// dateLayouts are the accepted forms of from / to, each with the span it names: "to 14:05"
// includes the whole minute, "to 2025-03-01" the whole day.
var dateLayouts = []struct {
	layout string
	unit   time.Duration
}{
	{"2006-01-02T15:04", time.Minute},
	{"2006-01-02T15:04:05", time.Second},
	{"2006-01-02 15:04", time.Minute},
	{"2006-01-02 15:04:05", time.Second},
	{"2006-01-02", 24 * time.Hour},
	{time.RFC3339, time.Second},
}

// parseDate reads a bound typed in UTC; it returns the instant and the span the text names.
func parseDate(s string) (time.Time, time.Duration, bool) {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l.layout, s); err == nil {
			return t.UTC(), l.unit, true
		}
	}
	return time.Time{}, 0, false
}

// formatDate is a bound as a datetime-local input shows it.
func formatDate(t time.Time) string {
	if t.Second() != 0 {
		return t.Format("2006-01-02T15:04:05")
	}
	return t.Format("2006-01-02T15:04")
}

const dateHint = "Enter a date and time (UTC) such as 2025-03-01T14:30, or a date such as 2025-03-01."

// parse checks the criteria at time now and turns them into the store's filter. kinds are the
// account's (type, sub-type) pairs, which spell the accepted types and sub-types beside Types.
// On a field error it still returns the normalised criteria, to show the form again.
func (c Criteria) parse(now time.Time, kinds []store.EventKind) (Criteria, store.EventFilter, Window, error) {
	var f store.EventFilter
	var w Window
	v := &models.ValidationError{}
	// Text that no event can hold (and PostgreSQL refuses as a parameter) is a mistake to show,
	// not a database error.
	for _, fld := range []struct {
		name string
		val  *string
	}{{"range", &c.Range}, {"from", &c.From}, {"to", &c.To}, {"type", &c.Type}, {"subtype", &c.SubType}, {"user", &c.User},
		{"actor_type", &c.ActorType}, {"actor", &c.Actor}, {"q", &c.Q}} {
		if !utf8.ValidString(*fld.val) || strings.ContainsRune(*fld.val, 0) {
			v.Add(fld.name, "Remove the characters that are not text.")
			*fld.val = strings.ToValidUTF8(strings.ReplaceAll(*fld.val, "\x00", ""), "")
		}
	}
	c.Range = strings.ToLower(strings.TrimSpace(c.Range))
	c.From, c.To = strings.TrimSpace(c.From), strings.TrimSpace(c.To)
	if c.Range == "" {
		c.Range = string(DefaultRange)
		if c.From != "" || c.To != "" {
			c.Range = string(RangeCustom)
		}
	}
	switch r := Range(c.Range); r {
	case RangeHour, RangeDay, RangeWeek, RangeMonth:
		w.From = now.Add(-r.span())
	case RangeAll:
	case RangeCustom:
		var unit time.Duration
		ok := true
		if c.From != "" {
			if w.From, _, ok = parseDate(c.From); ok {
				c.From = formatDate(w.From)
			} else {
				v.Add("from", dateHint)
			}
		}
		if c.To != "" {
			var to time.Time
			if to, unit, ok = parseDate(c.To); ok {
				c.To = formatDate(to)
				w.To = to.Add(unit)
			} else {
				v.Add("to", dateHint)
			}
		}
		switch {
		case c.From == "" && c.To == "":
			v.Add("from", "Enter a start, an end or both for a custom range.")
		case !w.From.IsZero() && !w.To.IsZero() && !w.From.Before(w.To):
			v.Add("to", "The end must be after the start.")
		}
	default:
		v.Add("range", "Choose a time range from the list.")
		c.Range = string(DefaultRange)
		w.From = now.Add(-RangeWeek.span())
	}
	f.From, f.To = w.From, w.To

	c.Type = strings.TrimSpace(c.Type)
	if c.Type != "" {
		t, ok := canonicalType(c.Type, kinds)
		if !ok {
			v.Add("type", fmt.Sprintf("%q is not an event type: choose one from the list.", c.Type))
		}
		c.Type, f.Type = string(t), t
	}
	c.SubType = strings.TrimSpace(c.SubType)
	if c.SubType != "" {
		// Sub-types are free (new ones appear with new features): an unknown one simply matches
		// nothing. Known ones are matched whatever their case.
		for _, k := range kinds {
			if strings.EqualFold(k.SubType, c.SubType) {
				c.SubType = k.SubType
				break
			}
		}
		f.SubType = c.SubType
	}

	c.User = strings.TrimSpace(c.User)
	switch {
	case c.User == "":
	case isDigits(c.User):
		id, err := strconv.ParseInt(c.User, 10, 64)
		if err != nil || id <= 0 {
			v.Add("user", "Enter the user's email or their id (the number in their page's address).")
		}
		f.UserID = id
	case strings.Contains(c.User, "@") && len(c.User) <= maxText:
		c.User = models.NormalizeEmail(c.User)
		f.UserEmail = c.User
	default:
		v.Add("user", "Enter the user's email or their id (the number in their page's address).")
	}

	c.ActorType = strings.ToLower(strings.TrimSpace(c.ActorType))
	if c.ActorType != "" {
		known := false
		for _, a := range ActorTypes {
			known = known || string(a) == c.ActorType
		}
		if !known {
			v.Add("actor_type", "Choose a kind of actor from the list.")
		}
		f.ActorType = models.ActorType(c.ActorType)
	}
	c.Actor = strings.TrimSpace(c.Actor)
	if strings.Contains(c.Actor, "@") {
		c.Actor = models.NormalizeEmail(c.Actor) // emails are stored lowercased
	}
	if len(c.Actor) > maxText {
		v.Add("actor", "That is longer than any email.")
	}
	f.Actor = c.Actor

	c.Q = strings.ToLower(strings.TrimSpace(c.Q))
	if len(c.Q) > maxText {
		v.Add("q", "That is longer than any email.")
	}
	f.EmailPrefix = c.Q
	return c, f, w, v.OrNil()
}

func canonicalType(s string, kinds []store.EventKind) (models.EventType, bool) {
	for _, t := range Types {
		if strings.EqualFold(string(t), s) {
			return t, true
		}
	}
	for _, k := range kinds {
		if strings.EqualFold(string(k.Type), s) {
			return k.Type, true
		}
	}
	return models.EventType(s), false
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// Count is the number of events of one kind in the filter.
type Count struct {
	Type    models.EventType
	SubType string
	N       int64
	// AtLeast marks a lower bound: the count stopped at CountCap, or the filter matched more
	// than CountCap events and only those were counted.
	AtLeast bool
}

// Result is a page of Event Discovery.
type Result struct {
	Criteria Criteria // normalised: what the form shows and the links carry
	Window   Window
	// DatesIgnored is set when from / to were typed but a preset range is chosen.
	DatesIgnored bool
	Events       []models.Event
	Next         string // cursor of the next page, "" on the last
	Counts       []Count
	Total        int64 // sum of Counts
	TotalAtLeast bool
	// Sampled is set when more than CountCap events match a filter on user, actor or email:
	// only the first CountCap found were counted, so every count is a lower bound.
	Sampled bool
	// The menus: every type and sub-type this account has, plus the built-in types.
	Types    []models.EventType
	SubTypes []string
}

// Search returns a page of the account's events matching the criteria, newest first, after the
// cursor, with the counts per kind of the whole filter. A *models.ValidationError comes with a
// Result that has the criteria and menus, to show the form again.
func (s *Service) Search(ctx context.Context, actor *models.Admin, c Criteria, after string) (Result, error) {
	kinds, err := s.store.EventKinds(ctx, actor.AccountID)
	if err != nil {
		return Result{}, err
	}
	c, f, w, verr := c.parse(s.now().UTC(), kinds)
	res := Result{Criteria: c, Window: w, Types: menuTypes(kinds), SubTypes: menuSubTypes(kinds, c.SubType)}
	if verr != nil {
		return res, verr
	}
	res.DatesIgnored = !c.Custom() && (c.From != "" || c.To != "")
	page, err := s.store.SearchEvents(ctx, actor.AccountID, f, after, PageSize)
	if err != nil {
		return Result{}, err
	}
	res.Events, res.Next = page.Events, page.Next
	counted, exact, err := s.store.CountEventKinds(ctx, actor.AccountID, f, CountCap, kinds)
	if err != nil {
		return Result{}, err
	}
	res.Sampled = !exact
	for _, k := range counted {
		n := Count{Type: k.Type, SubType: k.SubType, N: k.N, AtLeast: !exact}
		if k.N > CountCap {
			n.N, n.AtLeast = CountCap, true
		}
		res.Total += n.N
		res.TotalAtLeast = res.TotalAtLeast || n.AtLeast
		res.Counts = append(res.Counts, n)
	}
	return res, nil
}

func menuTypes(kinds []store.EventKind) []models.EventType {
	out := append([]models.EventType(nil), Types...)
	for _, k := range kinds {
		if !slices.Contains(out, k.Type) {
			out = append(out, k.Type)
		}
	}
	return out
}

func menuSubTypes(kinds []store.EventKind, current string) []string {
	seen := map[string]bool{}
	var out []string
	for _, k := range kinds {
		if !seen[k.SubType] {
			seen[k.SubType] = true
			out = append(out, k.SubType)
		}
	}
	if current != "" && !seen[current] {
		out = append(out, current)
	}
	sort.Strings(out)
	return out
}

// Detail is one event with what its page shows.
type Detail struct {
	Event models.Event
	// UserExists is set when the SDP user the event is about is still there (it can be linked).
	UserExists bool
	Details    []Field
	// RawDetails holds details that are not a JSON object, shown as they are.
	RawDetails string
}

// Field is one key and value of an event's details.
type Field struct {
	Key, Value string
}

// Get returns one event of the actor's account (another account's id is not found).
func (s *Service) Get(ctx context.Context, actor *models.Admin, id int64) (Detail, error) {
	e, err := s.store.Event(ctx, actor.AccountID, id)
	if err != nil {
		return Detail{}, err
	}
	d := Detail{Event: *e}
	if e.SDPUserID != nil {
		switch _, err := s.store.User(ctx, actor.AccountID, *e.SDPUserID); {
		case err == nil:
			d.UserExists = true
		case !errors.Is(err, models.ErrNotFound):
			return Detail{}, err
		}
	}
	d.Details, d.RawDetails = ParseDetails(e.Details)
	return d, nil
}

// ParseDetails reads an event's JSON details into fields sorted by key (underscores shown as
// spaces). Details that are not a JSON object come back as raw text.
func ParseDetails(raw string) ([]Field, string) {
	if raw == "" {
		return nil, ""
	}
	var m map[string]any
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return nil, raw
	}
	out := make([]Field, 0, len(m))
	for k, v := range m {
		var s string
		switch v := v.(type) {
		case string:
			s = v
		case nil:
			s = ""
		default:
			b, _ := json.Marshal(v)
			s = string(b)
		}
		out = append(out, Field{Key: strings.ReplaceAll(k, "_", " "), Value: s})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, ""
}

// DetailsText is an event's details on one line: "key: value; key: value".
func DetailsText(raw string) string {
	fields, rawText := ParseDetails(raw)
	if rawText != "" {
		return rawText
	}
	parts := make([]string, len(fields))
	for i, f := range fields {
		parts[i] = f.Key + ": " + f.Value
	}
	return strings.Join(parts, "; ")
}

// CSVHeader is the first row of the export.
var CSVHeader = []string{"Time (UTC)", "Type", "Sub-type", "Actor type", "Actor", "Email", "User ID", "Device ID", "Source IP", "Details"}

// ExportCSV writes every event matching the criteria as CSV (csvsafe: RFC 4180 quoting, formula
// triggers neutralised), newest first, reading them in keyset batches so that memory stays flat.
// The criteria are checked first: open is called only once they are valid, before the first
// byte, so that the caller can still answer a mistake with an error page.
func (s *Service) ExportCSV(ctx context.Context, actor *models.Admin, ip string, c Criteria, open func() io.Writer) error {
	var w *csvsafe.Writer
	return s.Export(ctx, actor, ip, c, "csv", func() error {
		w = csvsafe.NewWriter(open())
		if err := w.Write(CSVHeader...); err != nil {
			return err
		}
		return w.Flush()
	}, func(batch []models.Event) error {
		for i := range batch {
			e := &batch[i]
			if err := w.Write(e.OccurredAt.UTC().Format("2006-01-02 15:04:05"), string(e.Type), e.SubType, string(e.ActorType),
				e.ActorLabel, e.Email, optID(e.SDPUserID), optID(e.DeviceID), e.SourceIP, DetailsText(e.Details)); err != nil {
				return err
			}
		}
		return w.Flush()
	})
}

// Export hands every event matching the criteria to each, newest first, in keyset batches
// (memory stays flat), and records an Events Exported event naming the format. The criteria
// are checked first: begin is called only once they are valid, before any batch.
func (s *Service) Export(ctx context.Context, actor *models.Admin, ip string, c Criteria, format string, begin func() error,
	each func([]models.Event) error) (err error) {
	kinds, err := s.store.EventKinds(ctx, actor.AccountID)
	if err != nil {
		return err
	}
	_, f, _, err := c.parse(s.now().UTC(), kinds)
	if err != nil {
		return err
	}
	rows := 0
	defer func() {
		// Who took which events out of the console is itself an event, even for a download
		// that stopped half-way.
		details := map[string]string{"rows": strconv.Itoa(rows), "filter": c.summary()}
		if format != "csv" {
			details["format"] = format
		}
		if err != nil {
			details["complete"] = "no"
		}
		e := models.NewEvent(&actor.AccountID, models.EventAdmin, models.SubEventsExported, models.AdminActor(actor, ip), "", details)
		if rerr := s.store.RecordEvent(ctx, e); err == nil {
			err = rerr
		}
	}()
	if err := begin(); err != nil {
		return err
	}
	return s.store.EachEvent(ctx, actor.AccountID, f, exportBatch, func(batch []models.Event) error {
		rows += len(batch)
		return each(batch)
	})
}

func optID(id *int64) string {
	if id == nil {
		return ""
	}
	return strconv.FormatInt(*id, 10)
}
