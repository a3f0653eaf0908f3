package handlers_test

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"onramp/models"
)

// The Users list's header area: the total of the filter, Previous and Next links, the count of
// selected rows, and search for a part of a name or an email.

var (
	emailCellRE = regexp.MustCompile(`<td>([^<@]+@[^<]+)</td>`)
	nextLinkRE  = regexp.MustCompile(`href="([^"]+)" rel="next"`)
	prevLinkRE  = regexp.MustCompile(`href="([^"]+)" rel="prev"`)
	totalRE     = regexp.MustCompile(`data-testid="users-total"[^>]*>([^<]+)<`)
)

func listEmails(body string) []string {
	var out []string
	for _, m := range emailCellRE.FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func link(re *regexp.Regexp, body string) string {
	m := re.FindStringSubmatch(body)
	if m == nil {
		return ""
	}
	return strings.ReplaceAll(m[1], "&amp;", "&")
}

func usersTotal(t *testing.T, r response) string {
	t.Helper()
	m := totalRE.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("%s: no total\n%s", r.Request.URL, snippet(r.body))
	}
	return strings.TrimSpace(m[1])
}

func TestUsersListSearchFindsPartsOfNamesAndEmails(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.seedUsers(boss.AccountID, 30, func(i int, u *models.SDPUser) {
		switch i {
		case 3:
			u.FirstName, u.LastName, u.Email = "Joanna", "Lee", "joanna.lee@acme.test"
		case 4:
			u.FirstName, u.LastName, u.Email = "Ann", "Smith", "ann@acme.test"
		case 5:
			u.FirstName, u.LastName, u.Email = "Bob", "Hanna", "bob@globex.test"
		case 6:
			u.FirstName, u.LastName, u.Email = "Axb", "Wild", "axb@wild.test"
		case 7:
			u.FirstName, u.LastName, u.Email = "Under", "Score", "a_b@wild.test"
		case 8:
			u.FirstName, u.LastName, u.Email = "Per", "Cent", "100pct@wild.test"
		}
	})
	other := a.createAdmin("globex", "hank@globex.example", models.RoleAdmin)
	a.seedUsers(other.AccountID, 1, func(_ int, u *models.SDPUser) { u.FirstName, u.Email = "Joanne", "joanne@acme.test" })

	c := a.client()
	c.signIn("boss@example.com")
	for _, tc := range []struct {
		q    string
		want []string
	}{
		{"acme.test", []string{"ann@acme.test", "joanna.lee@acme.test"}},
		{"ann", []string{"bob@globex.test", "ann@acme.test", "joanna.lee@acme.test"}},
		{"ANN", []string{"bob@globex.test", "ann@acme.test", "joanna.lee@acme.test"}},
		{"anna lee", []string{"joanna.lee@acme.test"}},
		{"@wild", []string{"100pct@wild.test", "a_b@wild.test", "axb@wild.test"}},
		// LIKE's wildcards are plain characters in a search.
		{"a_b", []string{"a_b@wild.test"}},
		{"%", nil},
		{"100%", nil},
		{`\`, nil},
		// Under three characters, a search is a prefix (a trigram index cannot serve less).
		{"an", []string{"ann@acme.test"}},
		{"ob", nil},
	} {
		r := c.get("/access/users?q=" + url.QueryEscape(tc.q))
		expectStatus(t, r, http.StatusOK)
		got := listEmails(r.body)
		if !slices.Equal(got, tc.want) {
			t.Errorf("q=%q: %v, want %v", tc.q, got, tc.want)
		}
	}
}

// TestUsersListTotalsAndPreviousLinks walks every page forwards then backwards in each order:
// Previous shows the same rows as before, the first page has no Previous link, and the total
// counts the filter.
func TestUsersListTotalsAndPreviousLinks(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.seedUsers(boss.AccountID, 120, func(i int, u *models.SDPUser) {
		if i%10 == 0 {
			u.Status = models.UserDisabled
		}
	})
	other := a.createAdmin("globex", "hank@globex.example", models.RoleAdmin)
	a.seedUsers(other.AccountID, 3, nil)
	c := a.client()
	c.signIn("boss@example.com")

	r := c.get("/access/users")
	if got := usersTotal(t, r); got != "120 users" {
		t.Fatalf("total %q", got)
	}
	expectBody(t, r, `data-selected-count="ids"`)
	if got := usersTotal(t, c.get("/access/users?status=disabled")); got != "12 users match" {
		t.Fatalf("filtered total %q", got)
	}
	if got := usersTotal(t, c.get("/access/users?q=user00001")); got != "1 user matches" {
		t.Fatalf("search total %q", got)
	}
	if got := usersTotal(t, c.get("/access/users?q=nobody")); got != "0 users match" {
		t.Fatalf("empty total %q", got)
	}

	for _, sortBy := range []string{"newest", "oldest", "name", "email"} {
		var pages [][]string
		path := "/access/users?sort=" + sortBy
		for path != "" {
			if len(pages) > 5 {
				t.Fatal("pagination does not end")
			}
			r := c.get(path)
			expectStatus(t, r, http.StatusOK)
			if len(pages) == 0 && link(prevLinkRE, r.body) != "" {
				t.Fatalf("%s: a Previous link on the first page", sortBy)
			}
			pages = append(pages, listEmails(r.body))
			if next := link(nextLinkRE, r.body); next != "" {
				path = next
				continue
			}
			// The last page: go back to the first with Previous.
			for i := len(pages) - 2; i >= 0; i-- {
				prev := link(prevLinkRE, r.body)
				if prev == "" {
					t.Fatalf("%s: no Previous link back to page %d", sortBy, i+1)
				}
				if !strings.Contains(prev, "sort="+sortBy) && sortBy != "newest" {
					t.Fatalf("%s: the Previous link lost the order: %s", sortBy, prev)
				}
				r = c.get(prev)
				expectStatus(t, r, http.StatusOK)
				if got := listEmails(r.body); !slices.Equal(got, pages[i]) {
					t.Fatalf("%s: page %d going back\n%v\nwant\n%v", sortBy, i+1, got, pages[i])
				}
				if got := usersTotal(t, r); got != "120 users" {
					t.Fatalf("%s: total %q on a previous page", sortBy, got)
				}
			}
			if link(prevLinkRE, r.body) != "" {
				t.Fatalf("%s: a Previous link on the first page, reached backwards", sortBy)
			}
			if link(nextLinkRE, r.body) == "" {
				t.Fatalf("%s: no Next link on the first page, reached backwards", sortBy)
			}
			path = ""
		}
		if len(pages) != 3 || len(pages[0]) != 50 || len(pages[2]) != 20 {
			t.Fatalf("%s: pages of %d, %d… rows", sortBy, len(pages), len(pages[0]))
		}
	}

	// A Previous link whose page is not full any more (users were deleted) shows the first page.
	r = c.get("/access/users")
	second := link(nextLinkRE, r.body)
	firstPage := listEmails(r.body)
	r = c.get(second)
	prev := link(prevLinkRE, r.body)
	a.execSQL("DELETE FROM sdp_users WHERE email = ? OR email = ?", firstPage[0], firstPage[1])
	r = c.get(prev)
	expectStatus(t, r, http.StatusOK)
	if got := listEmails(r.body); len(got) != 50 || got[0] != firstPage[2] || link(prevLinkRE, r.body) != "" {
		t.Fatalf("short previous page: %d rows from %v, prev %q", len(got), got[:1], link(prevLinkRE, r.body))
	}
	// A cursor of junk shows the first page.
	expectStatus(t, c.get("/access/users?before=%2B%2B%2B&sort=name"), http.StatusOK)
}

// TestCountsAreCapped: past 10,000 matching users the list's total and the Overview's counts
// say "10,000+" instead of counting every row on every page view.
func TestCountsAreCapped(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	boss := a.createAdmin("acme", "boss@example.com", models.RoleAdmin)
	a.seedManyUsers(boss.AccountID, 10_002, 3)
	c := a.client()
	c.signIn("boss@example.com")
	if got := usersTotal(t, c.get("/access/users")); got != "10,000+ users" {
		t.Fatalf("total %q", got)
	}
	if got := usersTotal(t, c.get("/access/users?status=enabled")); got != "9,999 users match" {
		t.Fatalf("total %q", got)
	}
	if got := usersTotal(t, c.get("/access/users?status=disabled")); got != "3 users match" {
		t.Fatalf("total %q", got)
	}
	home := c.get("/")
	for k, want := range map[string]string{"enabled": "9,999", "new": "10,000+", "disabled": "3"} {
		if got := statOf(t, home, k); got != want {
			t.Errorf("Overview count %s = %q, want %q", k, got, want)
		}
	}
}

// seedManyUsers inserts n users of an account in one statement (seedUsers takes most of a minute
// for ten thousand under the race detector), the first disabled of them disabled, all new.
func (a *testApp) seedManyUsers(accountID int64, n, disabled int) {
	a.t.Helper()
	now := time.Now().UTC()
	a.execSQL(`WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
		INSERT INTO sdp_users (account_id, first_name, last_name, email, status, activation, name_key, created_at, updated_at)
		SELECT ?, 'Many', 'User ' || i, 'many' || i || '@example.com', CASE WHEN i <= ? THEN 'disabled' ELSE 'enabled' END, 'new',
			'user ' || i || ' many', ?, ? FROM seq`, n, accountID, disabled, now, now)
}
