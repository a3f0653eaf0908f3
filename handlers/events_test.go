package handlers_test

import (
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/store"
)

// discoveryFixture is an account with events of every filterable shape at known times, and a
// second account whose events must never show.
type discoveryFixture struct {
	app     *testApp
	boss    *models.Admin
	other   *models.Admin
	events  []*models.Event // acme's, as inserted
	foreign []*models.Event
}

func newDiscovery(t *testing.T) *discoveryFixture {
	t.Helper()
	a := newApp(t)
	fx := &discoveryFixture{app: a}
	fx.boss = a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.createAdmin("acme", "help@example.com", models.RoleHelpdesk)
	fx.other = a.createAdmin("globex", "hank@globex.example", models.RoleAdmin)
	us := a.seedUsers(fx.boss.AccountID, 3, nil) // user00000..user00002@example.com
	now := a.clock()
	ago := []time.Duration{30 * time.Minute, 5 * time.Hour, 3 * 24 * time.Hour, 20 * 24 * time.Hour, 45 * 24 * time.Hour}
	kinds := []struct {
		t   models.EventType
		sub string
	}{
		{models.EventPortal, models.SubSignedIn}, {models.EventUser, models.SubUserDisabled}, {models.EventCode, models.SubCodeGenerated},
		{models.EventClient, models.SubClientSignInFailed}, {models.EventUser, models.SubUserCreated},
	}
	bossID := fx.boss.ID
	for i := range 40 {
		u := us[i%3]
		uid := u.ID
		k := kinds[i%len(kinds)]
		e := &models.Event{AccountID: &fx.boss.AccountID, OccurredAt: now.Add(-ago[i%len(ago)] - time.Duration(i)*time.Second),
			Type: k.t, SubType: k.sub, ActorType: models.ActorAdmin, ActorID: &bossID, ActorLabel: "boss@example.com",
			Email: u.Email, SDPUserID: &uid, SourceIP: "192.0.2.1", Details: `{"reason":"test","note":"n` + strconv.Itoa(i) + `"}`}
		switch i % 4 {
		case 1:
			e.ActorType, e.ActorID, e.ActorLabel = models.ActorUser, &uid, u.Email
		case 2:
			e.ActorType, e.ActorID, e.ActorLabel = models.ActorSystem, nil, "command line"
		}
		fx.events = append(fx.events, e)
	}
	// One with a spreadsheet formula for an email and a comma and quotes in its details.
	fx.events = append(fx.events, &models.Event{AccountID: &fx.boss.AccountID, OccurredAt: now.Add(-time.Minute), Type: models.EventClient,
		SubType: models.SubClientCodeRejected, ActorType: models.ActorClient, Email: "=cmd|' /C calc'!a0", SourceIP: "198.51.100.7",
		Details: `{"reason":"malformed, \"quoted\""}`})
	for i := range 10 {
		fx.foreign = append(fx.foreign, &models.Event{AccountID: &fx.other.AccountID, OccurredAt: now.Add(-time.Duration(i) * time.Minute),
			Type: models.EventPortal, SubType: models.SubSignedIn, ActorType: models.ActorUser, ActorLabel: us[0].Email, Email: us[0].Email, SourceIP: "203.0.113.9"})
	}
	if err := a.store.CreateEvents(context.Background(), append(append([]*models.Event{}, fx.events...), fx.foreign...)); err != nil {
		t.Fatal(err)
	}
	return fx
}

// all is every event of acme as stored: the seeded ones and those signing in wrote.
func (fx *discoveryFixture) all() []models.Event {
	fx.app.t.Helper()
	var out []models.Event
	err := fx.app.store.EachEvent(context.Background(), fx.boss.AccountID, store.EventFilter{}, 1000, func(b []models.Event) error {
		out = append(out, b...)
		return nil
	})
	if err != nil {
		fx.app.t.Fatal(err)
	}
	return out
}

// want lists acme's events that match, newest first, as the list orders them (computed here,
// not by the database).
func (fx *discoveryFixture) want(match func(e *models.Event) bool) []int64 {
	var es []models.Event
	for _, e := range fx.all() {
		if match(&e) {
			es = append(es, e)
		}
	}
	sort.Slice(es, func(i, j int) bool {
		if !es[i].OccurredAt.Equal(es[j].OccurredAt) {
			return es[i].OccurredAt.After(es[j].OccurredAt)
		}
		return es[i].ID > es[j].ID
	})
	ids := make([]int64, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	return ids
}

func userIs(e *models.Event, id int64) bool { return e.SDPUserID != nil && *e.SDPUserID == id }

var (
	eventLinkRE  = regexp.MustCompile(`href="/events/(\d+)"`)
	nextPageRE   = regexp.MustCompile(`href="([^"]+)" rel="next"`)
	eventCountRE = regexp.MustCompile(`href="([^"]+)" data-testid="event-count"[^>]*><span>([^<]+)</span>\s*<span class="facet-n">([^<]+)</span>`)
)

// listEvents walks every page of a filtered list and returns the ids in the order shown, and
// the counts of the first page.
func listEvents(t *testing.T, c *client, query string) (ids []int64, counts map[string]string) {
	t.Helper()
	path := "/events" + query
	for pages := 0; path != ""; pages++ {
		if pages > 50 {
			t.Fatal("the pages never end")
		}
		r := c.get(path)
		expectStatus(t, r, http.StatusOK)
		if counts == nil {
			counts = map[string]string{}
			for _, m := range eventCountRE.FindAllStringSubmatch(r.body, -1) {
				counts[html.UnescapeString(m[2])] = m[3]
			}
		}
		for _, m := range eventLinkRE.FindAllStringSubmatch(r.body, -1) {
			id, _ := strconv.ParseInt(m[1], 10, 64)
			ids = append(ids, id)
		}
		path = ""
		if m := nextPageRE.FindStringSubmatch(r.body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	return ids, counts
}

// wantCounts is what the drill-down must say for a set of events.
func (fx *discoveryFixture) wantCounts(ids []int64) map[string]string {
	byID := map[int64]models.Event{}
	for _, e := range fx.all() {
		byID[e.ID] = e
	}
	n := map[string]int{}
	for _, id := range ids {
		e := byID[id]
		n[string(e.Type)+" · "+e.SubType]++
	}
	out := map[string]string{}
	for k, v := range n {
		out[k] = strconv.Itoa(v)
	}
	return out
}

func TestEventsFiltersNarrow(t *testing.T) {
	t.Parallel()
	fx := newDiscovery(t)
	a := fx.app
	now := a.clock()
	c := a.client()
	c.signIn("boss@example.com")
	u1 := fx.events[1].SDPUserID
	within := func(d time.Duration) func(e *models.Event) bool {
		return func(e *models.Event) bool { return !e.OccurredAt.Before(now.Add(-d)) }
	}
	week := within(7 * 24 * time.Hour)
	and := func(fs ...func(e *models.Event) bool) func(e *models.Event) bool {
		return func(e *models.Event) bool {
			for _, f := range fs {
				if !f(e) {
					return false
				}
			}
			return true
		}
	}
	custom := func(from, to time.Time) string {
		return "?range=custom&from=" + url.QueryEscape(from.Format("2006-01-02T15:04:05")) + "&to=" + url.QueryEscape(to.Format("2006-01-02T15:04:05"))
	}
	from, to := now.Add(-4*24*time.Hour).Truncate(time.Second), now.Add(-time.Hour).Truncate(time.Second)
	tests := []struct {
		name, query string
		match       func(e *models.Event) bool
	}{
		{"default is the last 7 days", "", week},
		{"last hour", "?range=1h", within(time.Hour)},
		{"last 24 hours", "?range=24h", within(24 * time.Hour)},
		{"last 30 days", "?range=30d", within(30 * 24 * time.Hour)},
		{"all time", "?range=all", func(*models.Event) bool { return true }},
		// "to" names a second: the whole of it is included.
		{"custom", custom(from, to), func(e *models.Event) bool {
			return !e.OccurredAt.Before(from) && e.OccurredAt.Before(to.Add(time.Second))
		}},
		{"custom, from only", "?from=" + url.QueryEscape(from.Format("2006-01-02T15:04")), func(e *models.Event) bool { return !e.OccurredAt.Before(from.Truncate(time.Minute)) }},
		{"type", "?range=all&type=User", func(e *models.Event) bool { return e.Type == models.EventUser }},
		{"type, any case", "?range=all&type=user", func(e *models.Event) bool { return e.Type == models.EventUser }},
		{"type and sub-type", "?range=all&type=User&subtype=Disabled", func(e *models.Event) bool { return e.Type == models.EventUser && e.SubType == models.SubUserDisabled }},
		{"sub-type alone", "?range=all&subtype=Sign-in+Failed", func(e *models.Event) bool { return e.SubType == models.SubSignInFailed }},
		{"user by id", fmt.Sprintf("?range=all&user=%d", *u1), func(e *models.Event) bool { return userIs(e, *u1) }},
		{"user by email", "?range=all&user=USER00001%40Example.com", func(e *models.Event) bool { return e.Email == "user00001@example.com" }},
		{"actor type", "?range=all&actor_type=system", func(e *models.Event) bool { return e.ActorType == models.ActorSystem }},
		{"actor email", "?range=all&actor=Boss%40example.com", func(e *models.Event) bool { return e.ActorLabel == "boss@example.com" }},
		{"actor type and email", "?actor_type=user&actor=user00002%40example.com", and(week, func(e *models.Event) bool {
			return e.ActorType == models.ActorUser && e.ActorLabel == "user00002@example.com"
		})},
		{"email prefix", "?q=USER0000", and(week, func(e *models.Event) bool { return strings.HasPrefix(e.Email, "user0000") })},
		{"email prefix, narrower", "?range=all&q=user00002", func(e *models.Event) bool { return e.Email == "user00002@example.com" }},
		{"email prefix with LIKE wildcards", "?range=all&q=user_", func(*models.Event) bool { return false }},
		{"everything at once", fmt.Sprintf("?range=30d&type=Portal&subtype=Signed+In&user=%d&actor_type=admin&q=user", *fx.events[0].SDPUserID),
			and(within(30*24*time.Hour), func(e *models.Event) bool {
				return e.Type == models.EventPortal && e.SubType == models.SubSignedIn && userIs(e, *fx.events[0].SDPUserID) && e.ActorType == models.ActorAdmin
			})},
		{"unknown sub-type matches nothing", "?range=all&subtype=Teleported", func(*models.Event) bool { return false }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, counts := listEvents(t, c, tt.query)
			want := fx.want(tt.match)
			if !slices.Equal(got, want) {
				t.Fatalf("%s: got %v\nwant %v", tt.query, got, want)
			}
			if wc := fx.wantCounts(want); fmt.Sprint(counts) != fmt.Sprint(wc) {
				t.Fatalf("%s: counts %v, want %v", tt.query, counts, wc)
			}
		})
	}
	if all, _ := listEvents(t, c, "?range=all"); len(all) != len(fx.all()) || len(all) <= len(fx.events) {
		t.Fatalf("all time shows %d of %d", len(all), len(fx.all()))
	}
}

func TestEventsDrillDownLinksNarrowTheFilter(t *testing.T) {
	t.Parallel()
	fx := newDiscovery(t)
	c := fx.app.client()
	c.signIn("boss@example.com")
	r := c.get("/events?range=all&actor_type=admin")
	expectStatus(t, r, http.StatusOK)
	links := eventCountRE.FindAllStringSubmatch(r.body, -1)
	if len(links) == 0 {
		t.Fatal("no counts")
	}
	for _, m := range links {
		u := html.UnescapeString(m[1])
		q, _ := url.ParseQuery(strings.TrimPrefix(u, "/events?"))
		typ, sub, _ := strings.Cut(html.UnescapeString(m[2]), " · ")
		if q.Get("type") != typ || q.Get("subtype") != sub || q.Get("actor_type") != "admin" || q.Get("range") != "all" {
			t.Fatalf("drill-down link %s for %s", u, m[2])
		}
		ids, counts := listEvents(t, c, strings.TrimPrefix(u, "/events"))
		if strconv.Itoa(len(ids)) != m[3] || len(counts) != 1 || counts[html.UnescapeString(m[2])] != m[3] {
			t.Fatalf("%s: %d rows, counts %v, the link said %s", u, len(ids), counts, m[3])
		}
	}
	if !strings.Contains(c.get(html.UnescapeString(links[0][1])).body, `aria-current="true"`) {
		t.Fatal("the chosen kind is not marked")
	}
}

func TestEventsKeysetPagesWalkEveryRowOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	now := a.clock()
	var es []*models.Event
	for i := range 237 {
		// Groups of five share an instant: the id breaks the tie.
		es = append(es, &models.Event{AccountID: &boss.AccountID, OccurredAt: now.Add(-time.Duration(i/5) * time.Minute), Type: models.EventPortal,
			SubType: models.SubSignedIn, ActorType: models.ActorUser, Email: fmt.Sprintf("u%03d@example.com", i)})
	}
	if err := a.store.CreateEvents(context.Background(), es); err != nil {
		t.Fatal(err)
	}
	c := a.client()
	c.signIn("boss@example.com") // adds an Admin · Signed In event
	ids, counts := listEvents(t, c, "?type=Portal")
	if len(ids) != len(es) {
		t.Fatalf("%d rows over the pages, want %d", len(ids), len(es))
	}
	for i := range ids {
		// Inserted oldest-last with ascending ids: newest first means groups in insert order, ids descending inside.
		want := es[(i/5)*5+(min(5, len(es)-(i/5)*5)-1-i%5)].ID
		if ids[i] != want {
			t.Fatalf("row %d is event %d, want %d", i, ids[i], want)
		}
	}
	if counts["Portal · Signed In"] != "237" {
		t.Fatalf("counts %v", counts)
	}
	// The page after a cursor that is not ours is the first page.
	r := c.get("/events?type=Portal&after=not-a-cursor")
	expectStatus(t, r, http.StatusOK)
	if m := eventLinkRE.FindStringSubmatch(r.body); m == nil || m[1] != strconv.FormatInt(ids[0], 10) {
		t.Fatal("a malformed cursor did not show the first page")
	}
}

func TestEventsOfAnotherAccountNeverShow(t *testing.T) {
	t.Parallel()
	fx := newDiscovery(t)
	c := fx.app.client()
	c.signIn("boss@example.com")
	ids, _ := listEvents(t, c, "?range=all&user=user00000%40example.com")
	foreign := map[int64]bool{}
	for _, e := range fx.foreign {
		foreign[e.ID] = true
	}
	for _, id := range ids {
		if foreign[id] {
			t.Fatalf("globex's event %d listed to acme", id)
		}
	}
	r := c.get(fmt.Sprintf("/events/%d", fx.foreign[0].ID))
	expectStatus(t, r, http.StatusNotFound)
	r = c.get("/events.csv?range=all")
	expectStatus(t, r, http.StatusOK)
	if strings.Contains(r.body, "203.0.113.9") {
		t.Fatal("globex's events in acme's CSV")
	}
	// And the other way round.
	g := fx.app.client()
	g.signIn("hank@globex.example")
	ids, counts := listEvents(t, g, "?range=all")
	var globex []int64
	if err := fx.app.store.EachEvent(context.Background(), fx.other.AccountID, store.EventFilter{}, 100, func(b []models.Event) error {
		for _, e := range b {
			globex = append(globex, e.ID)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, globex) || counts["Portal · Signed In"] != "10" {
		t.Fatalf("globex sees %v, has %v; counts %v", ids, globex, counts)
	}
	expectStatus(t, g.get(fmt.Sprintf("/events/%d", fx.events[0].ID)), http.StatusNotFound)
}

func TestEventDetail(t *testing.T) {
	t.Parallel()
	fx := newDiscovery(t)
	c := fx.app.client()
	c.signIn("boss@example.com")
	e := fx.events[0]
	r := c.get(fmt.Sprintf("/events/%d", e.ID))
	expectStatus(t, r, http.StatusOK)
	for _, want := range []string{"Portal · Signed In", e.OccurredAt.UTC().Format("2006-01-02 15:04:05"), "boss@example.com", e.Email, "192.0.2.1",
		`<th scope="row">reason</th><td>test</td>`, `<th scope="row">note</th><td>n0</td>`,
		fmt.Sprintf(`href="/access/users/%d" data-testid="event-user"`, *e.SDPUserID),
		fmt.Sprintf(`href="/events?range=all&amp;user=%d" data-testid="user-events"`, *e.SDPUserID)} {
		expectBody(t, r, want)
	}
	// Once the user is deleted the event stays, without the link.
	c.get(fmt.Sprintf("/access/users/%d", *e.SDPUserID))
	expectStatus(t, c.post("/access/users/actions", url.Values{"action": {"delete"}, "ids": {strconv.FormatInt(*e.SDPUserID, 10)}, "confirm": {"1"}}), http.StatusSeeOther)
	r = c.get(fmt.Sprintf("/events/%d", e.ID))
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "(deleted)")
	if strings.Contains(r.body, `data-testid="event-user"`) {
		t.Fatal("a deleted user is still linked")
	}
	for _, bad := range []string{"/events/0", "/events/abc", "/events/99999999", "/events/-1"} {
		expectStatus(t, c.get(bad), http.StatusNotFound)
	}
}

func TestEventsCSV(t *testing.T) {
	t.Parallel()
	fx := newDiscovery(t)
	c := fx.app.client()
	c.signIn("boss@example.com")
	r := c.get("/events.csv?range=all&type=Client")
	expectStatus(t, r, http.StatusOK)
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("content type %q", ct)
	}
	if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
		t.Fatalf("cache control %q", cc)
	}
	wantName := fmt.Sprintf(`attachment; filename="events-acme-%s.csv"`, time.Now().UTC().Format("2006-01-02"))
	if cd := r.Header.Get("Content-Disposition"); cd != wantName {
		t.Fatalf("content disposition %q, want %q", cd, wantName)
	}
	if !strings.HasPrefix(r.body, "Time (UTC),Type,Sub-type,Actor type,Actor,Email,User ID,Device ID,Source IP,Details\r\n") {
		t.Fatalf("header: %q", snippet(r.body))
	}
	rows, err := csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := fx.want(func(e *models.Event) bool { return e.Type == models.EventClient })
	if len(rows) != len(want)+1 {
		t.Fatalf("%d rows, want %d", len(rows)-1, len(want))
	}
	// The newest is the formula one: neutralised, and its details quoted whole.
	first := rows[1]
	if first[5] != "'=cmd|' /C calc'!a0" || first[9] != `reason: malformed, "quoted"` || first[1] != "Client" || first[2] != "Code Rejected" || first[6] != "" {
		t.Fatalf("first row %q", first)
	}
	if !strings.Contains(r.body, `"reason: malformed, ""quoted"""`) {
		t.Fatal("details not quoted as RFC 4180 has it")
	}
	if second := rows[2]; second[2] != "Sign-in Failed" || second[3] == "" || second[6] == "" || second[8] != "192.0.2.1" || !strings.HasPrefix(second[9], "note: n") {
		t.Fatalf("second row %q", second)
	}
	// An export is itself an event: who, which filter, how many rows.
	exported := fmt.Sprintf(`%%"rows":"%d"%%`, len(want))
	if n := fx.app.countSQL("SELECT COUNT(*) FROM events WHERE type = ? AND sub_type = ? AND actor_label = ? AND details LIKE ? AND details LIKE ?",
		string(models.EventAdmin), models.SubEventsExported, "boss@example.com", exported, `%range=all type=Client%`); n != 1 {
		t.Fatalf("%d Events Exported events for the Client export", n)
	}
	// Everything in the range (the export above's event too), across export batches, with no
	// other account's row.
	before := fx.all()
	r = c.get("/events.csv?range=all")
	rows, err = csv.NewReader(strings.NewReader(r.body)).ReadAll()
	if err != nil || len(rows) != len(before)+1 { // + the header
		t.Fatalf("%d rows (%v)", len(rows), err)
	}
	// A bad filter is an error page, not half a file.
	r = c.get("/events.csv?from=yesterday")
	expectStatus(t, r, http.StatusUnprocessableEntity)
	expectBody(t, r, "Enter a date and time")
}

func TestHelpdeskReadsEvents(t *testing.T) {
	t.Parallel()
	fx := newDiscovery(t)
	c := fx.app.client()
	c.signIn("help@example.com")
	r := c.get("/events")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, `href="/events"`)
	if strings.Contains(r.body, `href="/outbox"`) {
		t.Fatal("helpdesk sees the Outbox in the navigation")
	}
	expectStatus(t, c.get(fmt.Sprintf("/events/%d", fx.events[0].ID)), http.StatusOK)
	expectStatus(t, c.get("/events.csv"), http.StatusOK)
	// Signed out: to the sign-in page.
	anon := fx.app.client()
	for _, p := range []string{"/events", "/events.csv", fmt.Sprintf("/events/%d", fx.events[0].ID)} {
		if r := anon.get(p); r.StatusCode != http.StatusSeeOther || !strings.HasPrefix(r.Header.Get("Location"), "/login") {
			t.Fatalf("%s signed out: %d %s", p, r.StatusCode, r.Header.Get("Location"))
		}
	}
}

func TestEventsBadInputIsAClearError(t *testing.T) {
	t.Parallel()
	fx := newDiscovery(t)
	c := fx.app.client()
	c.signIn("boss@example.com")
	tests := []struct{ query, field string }{
		{"?from=not-a-date", "from"},
		{"?range=custom&to=2025-13-45T99:99", "to"},
		{"?range=custom", "from"},
		{"?range=custom&from=2025-03-02&to=2025-03-01", "to"},
		{"?range=fortnight", "range"},
		{"?type=Bogus", "type"},
		{"?user=not+an+email", "user"},
		{"?user=99999999999999999999999", "user"},
		{"?actor_type=robot", "actor_type"},
		{"?q=" + strings.Repeat("a", 400), "q"},
	}
	for _, tt := range tests {
		r := c.get("/events" + tt.query)
		expectStatus(t, r, http.StatusUnprocessableEntity)
		expectBody(t, r, `data-testid="error-`+tt.field+`"`)
		if strings.Contains(r.body, `data-testid="event-row"`) {
			t.Fatalf("%s: rows shown for a filter with a mistake", tt.query)
		}
	}
	// What is not text at all is refused before the page (handlers/middleware, TextInput).
	for _, q := range []string{"?subtype=%00", "?actor=%FF", "?after=%FF%FE"} {
		expectStatus(t, c.get("/events"+q), http.StatusBadRequest)
	}
	// Typed but not used: said so, never an error.
	r := c.get("/events?range=24h&from=2025-01-01T00:00")
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, "From and To are ignored unless the time range is Custom.")
	// Odd but harmless input is just a filter.
	for _, q := range []string{"?q=%25", "?q=%27%3B+DROP+TABLE+events%3B--", "?subtype=%E2%80%AE", "?actor=%E2%80%AE", "?after=%C3%A9", "?user=0%40x"} {
		expectStatus(t, c.get("/events"+q), http.StatusOK)
	}
}

func TestEventsLinkedFromUserPageAndOverview(t *testing.T) {
	t.Parallel()
	fx := newDiscovery(t)
	c := fx.app.client()
	c.signIn("boss@example.com")
	uid := *fx.events[0].SDPUserID
	r := c.get(fmt.Sprintf("/access/users/%d", uid))
	expectStatus(t, r, http.StatusOK)
	expectBody(t, r, fmt.Sprintf(`href="/events?range=all&amp;user=%d" data-testid="user-events-link"`, uid))
	r = c.get("/")
	expectBody(t, r, `href="/events" data-testid="all-events-link"`)
}
