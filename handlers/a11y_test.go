package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"onramp/models"
)

// TestTableHeadersNeverEmpty walks the main pages, with data in every table, and fails on a
// header cell without text: a screen reader announces such a column as nothing. A select-all
// checkbox or an actions column needs a (visually hidden) text of its own.
func TestTableHeadersNeverEmpty(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.createAdmin("acme", "ada@acme.test", models.RoleAdmin)
	c := a.client()
	c.signIn(admin.Email)
	c.get("/access/users/new")
	r := c.post("/access/users", url.Values{"first_name": {"Grace"}, "last_name": {"Hopper"}, "email": {"grace@acme.test"}})
	if r.StatusCode >= 400 {
		t.Fatalf("create a user: %d", r.StatusCode)
	}
	u := a.activeSDPUser("acme", "alan@acme.test")
	a.register(a.insertCode(u, time.Hour), "laptop")
	a.insertCode(u, time.Hour)
	var messageID int64
	if err := a.store.SQLDB().QueryRow("SELECT MIN(id) FROM mail_messages").Scan(&messageID); err != nil {
		t.Fatal(err)
	}
	pages := []string{"/", "/access/users", "/access/users/" + strconv.FormatInt(u.ID, 10), "/events", "/outbox",
		"/outbox/" + strconv.FormatInt(messageID, 10), "/settings/administrators", "/access/directory-services/provisioning",
		"/access/client-access"}
	for _, path := range pages {
		r := c.get(path)
		expectStatus(t, r, http.StatusOK)
		checkTableHeaders(t, path, r.body)
	}
	portal := a.client()
	portal.portalSignIn("acme", u.Email, testPassword, "")
	r = portal.get("/myvpn")
	expectStatus(t, r, http.StatusOK)
	if !strings.Contains(r.body, "laptop") {
		t.Fatal("MyVPN does not list the device: the walk would miss its table")
	}
	checkTableHeaders(t, "/myvpn", r.body)
}

// TestAccountMenuNameHasItsText: the account menu's accessible name contains the text it shows
// (WCAG 2.5.3), at every width: no aria-label that replaces it, no shown text hidden from the
// accessibility tree.
func TestAccountMenuNameHasItsText(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	admin := a.createAdmin("acme", "ada@acme.test", models.RoleAdmin)
	c := a.client()
	c.signIn(admin.Email)
	doc := parseHTML(t, c.get("/").body)
	summary := find(doc, func(n *html.Node) bool {
		return n.Data == "summary" && n.Parent != nil && strings.Contains(attr(n.Parent, "class"), "user-menu")
	})
	if summary == nil {
		t.Fatal("no account menu")
	}
	if l := attr(summary, "aria-label"); l != "" {
		t.Errorf("the account menu's name is the aria-label %q, not the text it shows", l)
	}
	if find(summary, func(n *html.Node) bool { return attr(n, "aria-hidden") == "true" && textOf(n) != "" }) != nil {
		t.Error("text shown in the account menu is hidden from its accessible name")
	}
	if got := textOf(summary); !strings.Contains(got, admin.Name) {
		t.Errorf("the account menu's text %q lacks the admin's name %q", got, admin.Name)
	}
}

func checkTableHeaders(t *testing.T, path, body string) {
	t.Helper()
	doc := parseHTML(t, body)
	headers := 0
	var walk func(*html.Node)
	walk = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "th" {
			headers++
			if strings.TrimSpace(textOf(n)) == "" {
				var b strings.Builder
				_ = html.Render(&b, n)
				t.Errorf("%s: an empty table header: %s", path, b.String())
			}
		}
		for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
			walk(ch)
		}
	}
	walk(doc)
	if headers == 0 && path != "/access/directory-services/provisioning" && path != "/access/client-access" {
		t.Errorf("%s: no table at all: the walk checks nothing there", path)
	}
}

func parseHTML(t *testing.T, body string) *html.Node {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

// textOf is the text of a node and its descendants, as a screen reader would read it (without
// aria-hidden parts).
func textOf(n *html.Node) string {
	if n.Type == html.TextNode {
		return n.Data
	}
	if attr(n, "aria-hidden") == "true" {
		return ""
	}
	var b strings.Builder
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		b.WriteString(textOf(ch))
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

func find(n *html.Node, match func(*html.Node) bool) *html.Node {
	if n.Type == html.ElementNode && match(n) {
		return n
	}
	for ch := n.FirstChild; ch != nil; ch = ch.NextSibling {
		if f := find(ch, match); f != nil {
			return f
		}
	}
	return nil
}
