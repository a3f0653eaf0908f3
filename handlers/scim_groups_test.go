package handlers_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func groupBody(name string, memberIDs ...string) string {
	var ms []string
	for _, id := range memberIDs {
		ms = append(ms, `{"value":"`+id+`"}`)
	}
	return `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"` + name + `","members":[` + strings.Join(ms, ",") + `]}`
}

// memberValues is the sorted member ids of a group resource.
func memberValues(m map[string]any) []string {
	list, _ := m["members"].([]any)
	var out []string
	for _, x := range list {
		out = append(out, x.(map[string]any)["value"].(string))
	}
	slices.Sort(out)
	return out
}

func sortedIDs(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	return out
}

// TestSCIMGroups walks /Groups through the shapes Okta and Entra ID send: create (409 on a
// displayName the directory has, in any case), list by displayName, excludedAttributes,
// paging, get (404 with a detail), PATCH members by filter path and by value list with ops in
// any case, a path-less replace, PUT and DELETE; an unknown member is 400 invalidValue.
func TestSCIMGroups(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	s := a.scimFor(t, "acme", "Entra")
	var users []string
	for _, u := range []string{"ann", "bob", "cy"} {
		r := s.do(http.MethodPost, "/Users", userBody(u+"@example.com", u, "Test"))
		users = append(users, r.str("id"))
	}
	ann, bob, cy := users[0], users[1], users[2]
	created := s.do(http.MethodPost, "/Groups", groupBody("Engineering", ann))
	if created.status != http.StatusCreated || created.str("displayName") != "Engineering" ||
		!slices.Equal(memberValues(created.body), []string{ann}) {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	id := created.str("id")
	if r := s.do(http.MethodPost, "/Groups", groupBody("Sales")); r.status != http.StatusCreated {
		t.Fatalf("create Sales: %d %s", r.status, r.raw)
	}
	patch := func(ops string) string {
		return `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[` + ops + `]}`
	}
	tests := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		check  func(r scimResponse) bool
	}{
		{"duplicate displayName in another case", http.MethodPost, "/Groups", groupBody("ENGINEERING"), 409,
			func(r scimResponse) bool { return r.str("scimType") == "uniqueness" }},
		{"no displayName", http.MethodPost, "/Groups", groupBody(""), 400,
			func(r scimResponse) bool { return r.str("scimType") == "invalidValue" }},
		{"an unknown member", http.MethodPost, "/Groups", groupBody("Ops", "999999"), 400,
			func(r scimResponse) bool {
				return r.str("scimType") == "invalidValue" && strings.Contains(r.str("detail"), "999999")
			}},
		{"filter by displayName", http.MethodGet, `/Groups?filter=displayName+eq+%22engineering%22`, "", 200,
			func(r scimResponse) bool {
				res := r.resources()
				return r.num("totalResults") == 1 && len(res) == 1 && res[0]["id"] == id && len(memberValues(res[0])) == 1
			}},
		{"excludedAttributes=members", http.MethodGet, `/Groups?excludedAttributes=members&filter=displayName+eq+%22Engineering%22`, "", 200,
			func(r scimResponse) bool {
				res := r.resources()
				return len(res) == 1 && res[0]["members"] == nil
			}},
		{"startIndex and count", http.MethodGet, "/Groups?startIndex=2&count=1", "", 200,
			func(r scimResponse) bool {
				res := r.resources()
				return r.num("totalResults") == 2 && len(res) == 1 && res[0]["displayName"] == "Sales"
			}},
		{"an unsupported filter", http.MethodGet, `/Groups?filter=members+eq+%22x%22`, "", 400,
			func(r scimResponse) bool { return r.str("scimType") == "invalidFilter" }},
		{"unknown id", http.MethodGet, "/Groups/999999", "", 404,
			func(r scimResponse) bool { return strings.Contains(r.str("detail"), "999999") }},
		{"Entra: Add members by value list", http.MethodPatch, "/Groups/" + id,
			patch(`{"op":"Add","path":"members","value":[{"$ref":null,"value":"` + bob + `"},{"value":"` + cy + `"}]}`), 200,
			func(r scimResponse) bool { return slices.Equal(memberValues(r.body), sortedIDs(ann, bob, cy)) }},
		{"Entra: Remove members by value list", http.MethodPatch, "/Groups/" + id,
			patch(`{"op":"Remove","path":"members","value":[{"value":"` + cy + `"}]}`), 200,
			func(r scimResponse) bool { return slices.Equal(memberValues(r.body), sortedIDs(ann, bob)) }},
		{"Okta: remove members[value eq]", http.MethodPatch, "/Groups/" + id,
			patch(`{"op":"remove","path":"members[value eq \"` + ann + `\"]"}`), 200,
			func(r scimResponse) bool { return slices.Equal(memberValues(r.body), []string{bob}) }},
		{"add an unknown member", http.MethodPatch, "/Groups/" + id,
			patch(`{"op":"add","path":"members","value":[{"value":"999999"}]}`), 400,
			func(r scimResponse) bool { return r.str("scimType") == "invalidValue" }},
		{"replace members and displayName", http.MethodPatch, "/Groups/" + id,
			patch(`{"op":"replace","path":"members","value":[{"value":"` + cy + `"}]},{"op":"Replace","path":"displayName","value":"Eng"}`), 200,
			func(r scimResponse) bool {
				return slices.Equal(memberValues(r.body), []string{cy}) && r.str("displayName") == "Eng"
			}},
		{"Okta: path-less replace", http.MethodPatch, "/Groups/" + id,
			patch(`{"op":"replace","value":{"id":"` + id + `","displayName":"Engineering"}}`), 200,
			func(r scimResponse) bool {
				return r.str("displayName") == "Engineering" && slices.Equal(memberValues(r.body), []string{cy})
			}},
		{"rename onto another group", http.MethodPatch, "/Groups/" + id,
			patch(`{"op":"replace","path":"displayName","value":"sales"}`), 409,
			func(r scimResponse) bool { return r.str("scimType") == "uniqueness" }},
		{"an unknown op", http.MethodPatch, "/Groups/" + id, patch(`{"op":"move","path":"members"}`), 400,
			func(r scimResponse) bool { return r.str("scimType") == "invalidSyntax" }},
		{"PUT replaces every member", http.MethodPut, "/Groups/" + id, groupBody("Engineering", ann, bob), 200,
			func(r scimResponse) bool { return slices.Equal(memberValues(r.body), sortedIDs(ann, bob)) }},
		{"get", http.MethodGet, "/Groups/" + id, "", 200,
			func(r scimResponse) bool {
				return r.str("displayName") == "Engineering" && slices.Equal(memberValues(r.body), sortedIDs(ann, bob)) &&
					strings.HasSuffix(r.body["meta"].(map[string]any)["location"].(string), "/scim/v2/Groups/"+id)
			}},
		{"remove every member", http.MethodPatch, "/Groups/" + id, patch(`{"op":"remove","path":"members"}`), 200,
			func(r scimResponse) bool { return len(memberValues(r.body)) == 0 }},
	}
	for _, tt := range tests {
		r := s.do(tt.method, tt.path, tt.body)
		if r.status != tt.status || r.ctype != "application/scim+json" || !tt.check(r) {
			t.Errorf("%s: %d %s %s", tt.name, r.status, r.ctype, r.raw)
		}
	}
	if r := s.do(http.MethodDelete, "/Groups/"+id, ""); r.status != http.StatusNoContent {
		t.Errorf("delete: %d %s", r.status, r.raw)
	}
	if r := s.do(http.MethodGet, "/Groups/"+id, ""); r.status != http.StatusNotFound {
		t.Errorf("get after delete: %d", r.status)
	}
	if n := a.countSQL("SELECT COUNT(*) FROM sdp_users"); n != 3 {
		t.Errorf("%d users after the group went, want 3", n)
	}
}

// TestSCIMGroupsStayInTheirAccount: another account's token neither sees nor changes a group,
// and cannot make another account's user a member.
func TestSCIMGroupsStayInTheirAccount(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	acme := a.scimFor(t, "acme", "Okta")
	globex := a.scimFor(t, "globex", "Okta")
	ann := acme.do(http.MethodPost, "/Users", userBody("ann@example.com", "Ann", "Lee")).str("id")
	id := acme.do(http.MethodPost, "/Groups", groupBody("Engineering", ann)).str("id")
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		if r := globex.do(m, "/Groups/"+id, ""); r.status != http.StatusNotFound {
			t.Errorf("%s another account's group: %d", m, r.status)
		}
	}
	if r := globex.do(http.MethodGet, "/Groups", ""); r.num("totalResults") != 0 {
		t.Errorf("another account's groups listed: %s", r.raw)
	}
	if r := globex.do(http.MethodPost, "/Groups", groupBody("Engineering", ann)); r.status != http.StatusBadRequest {
		t.Errorf("another account's user as a member: %d %s", r.status, r.raw)
	}
	acme.do(http.MethodDelete, "/Users/"+ann, "")
	if r := acme.do(http.MethodGet, "/Groups/"+id, ""); r.status != http.StatusOK || len(memberValues(r.body)) != 0 {
		t.Errorf("a deleted user is still a member: %d %s", r.status, r.raw)
	}
}

// TestUsersListFiltersByGroup: the Users list offers a Group filter only when the account has
// groups, group=<id> lists that group's members, and a user's page names their groups.
func TestUsersListFiltersByGroup(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	s := a.scimFor(t, "acme", "Okta")
	c := a.client()
	c.signIn("boss@acme.example")
	if r := c.get("/access/users"); strings.Contains(r.body, `name="group"`) {
		t.Errorf("a Group filter without groups")
	}
	ann := s.do(http.MethodPost, "/Users", userBody("ann@example.com", "Ann", "Lee")).str("id")
	s.do(http.MethodPost, "/Users", userBody("bob@example.com", "Bob", "Ray"))
	id := s.do(http.MethodPost, "/Groups", groupBody("Engineering", ann)).str("id")
	s.do(http.MethodPost, "/Groups", groupBody("Sales"))

	r := c.get("/access/users")
	if !strings.Contains(r.body, `<select id="f-group" name="group"`) || !strings.Contains(r.body, `value="`+id+`"`) {
		t.Errorf("no Group filter:\n%s", snippet(r.body))
	}
	if got := listEmails(c.get("/access/users?group=" + id).body); !slices.Equal(got, []string{"ann@example.com"}) {
		t.Errorf("group=%s lists %v", id, got)
	}
	if got := listEmails(c.get("/access/users?group=999999").body); len(got) != 0 {
		t.Errorf("an unknown group lists %v", got)
	}
	if got := listEmails(c.get("/access/users?group=x").body); len(got) != 2 {
		t.Errorf("a malformed group lists %v, want every user", got)
	}
	page := c.get("/access/users/" + ann)
	expectStatus(t, page, http.StatusOK)
	if !regexp.MustCompile(`data-testid="user-groups"[^>]*>[^<]*Engineering`).MatchString(page.body) {
		t.Errorf("the user's page does not name the group:\n%s", snippet(page.body))
	}
}

// TestSCIMDiscoveryNamesGroups: /ResourceTypes and /Schemas describe the Group resource too,
// and every list's totalResults counts what it holds.
func TestSCIMDiscoveryNamesGroups(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	s := a.scimFor(t, "acme", "Okta")
	for path, want := range map[string]string{"/ResourceTypes": `"endpoint":"/Groups"`, "/Schemas": `"name":"members"`} {
		r := s.do(http.MethodGet, path, "")
		if r.status != 200 || !strings.Contains(r.raw, want) || r.num("totalResults") != 2 || len(r.resources()) != 2 {
			t.Errorf("%s: %d %s", path, r.status, r.raw)
		}
	}
}

// groupEvent is one Group event as the table holds it.
type groupEvent struct {
	sub     string
	details map[string]string
}

// groupEvents lists the account's Group events in order, checking that each has the
// directory as its actor and no SDP user.
func (a *testApp) groupEvents(t *testing.T, directory string) []groupEvent {
	t.Helper()
	rows, err := a.store.SQLDB().Query(a.rebind(`SELECT sub_type, actor_type, actor_label, details, sdp_user_id IS NULL FROM events
		WHERE type = 'Group' ORDER BY id`))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []groupEvent
	for rows.Next() {
		var sub, actorType, actor, details string
		var noUser bool
		if err := rows.Scan(&sub, &actorType, &actor, &details, &noUser); err != nil {
			t.Fatal(err)
		}
		if actorType != "directory" || actor != directory || !noUser {
			t.Errorf("%s by %s %q (no user: %v)", sub, actorType, actor, noUser)
		}
		e := groupEvent{sub: sub}
		if err := json.Unmarshal([]byte(details), &e.details); err != nil {
			t.Fatalf("details %q: %v", details, err)
		}
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestSCIMGroupEvents: creating, renaming and deleting a group and changing its members write
// Group events with the directory as the actor: one per kind of change and request (not one
// per member), with the count and the first few members; a request that changes nothing
// writes none. Event Discovery offers the Group type and lists them under it.
func TestSCIMGroupEvents(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	s := a.scimFor(t, "acme", "Okta")
	ids := map[string]string{}
	for _, u := range []string{"ann", "bob", "cy", "dan", "eve", "fay", "gus", "hal"} {
		ids[u] = s.do(http.MethodPost, "/Users", userBody(u+"@example.com", u, "Test")).str("id")
	}
	member := func(names ...string) string {
		var ms []string
		for _, n := range names {
			ms = append(ms, `{"value":"`+ids[n]+`"}`)
		}
		return "[" + strings.Join(ms, ",") + "]"
	}
	patch := func(id, ops string) {
		t.Helper()
		r := s.do(http.MethodPatch, "/Groups/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[`+ops+`]}`)
		if r.status != http.StatusOK {
			t.Fatalf("patch %s: %d %s", ops, r.status, r.raw)
		}
	}
	created := s.do(http.MethodPost, "/Groups", groupBody("Engineering", ids["ann"], ids["bob"]))
	id := created.str("id")
	patch(id, `{"op":"Add","path":"members","value":`+member("cy", "dan", "eve", "fay", "gus", "hal")+`}`)
	patch(id, `{"op":"remove","path":"members[value eq \"`+ids["ann"]+`\"]"}`)
	patch(id, `{"op":"add","path":"members","value":`+member("bob")+`},{"op":"replace","path":"displayName","value":"Engineering"}`)
	patch(id, `{"op":"Replace","path":"displayName","value":"Platform"}`)
	if r := s.do(http.MethodPut, "/Groups/"+id, groupBody("Platform Team", ids["ann"], ids["bob"])); r.status != http.StatusOK {
		t.Fatalf("put: %d %s", r.status, r.raw)
	}
	if r := s.do(http.MethodDelete, "/Groups/"+id, ""); r.status != http.StatusNoContent {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	// Refused requests change nothing and write nothing.
	s.do(http.MethodPost, "/Groups", groupBody("Ops", "999999"))
	s.do(http.MethodDelete, "/Groups/"+id, "")

	want := []groupEvent{
		{"Created", map[string]string{"directory": "Okta", "group": "Engineering", "members": "2", "names": "ann@example.com, bob@example.com"}},
		{"Members Added", map[string]string{"directory": "Okta", "group": "Engineering", "count": "6",
			"names": "cy@example.com, dan@example.com, eve@example.com, fay@example.com, gus@example.com and 1 more"}},
		{"Members Removed", map[string]string{"directory": "Okta", "group": "Engineering", "count": "1", "names": "ann@example.com"}},
		{"Renamed", map[string]string{"directory": "Okta", "group": "Platform", "from": "Engineering"}},
		{"Renamed", map[string]string{"directory": "Okta", "group": "Platform Team", "from": "Platform"}},
		{"Members Added", map[string]string{"directory": "Okta", "group": "Platform Team", "count": "1", "names": "ann@example.com"}},
		{"Members Removed", map[string]string{"directory": "Okta", "group": "Platform Team", "count": "6",
			"names": "cy@example.com, dan@example.com, eve@example.com, fay@example.com, gus@example.com and 1 more"}},
		{"Deleted", map[string]string{"directory": "Okta", "group": "Platform Team", "members": "2"}},
	}
	got := a.groupEvents(t, "Okta")
	if len(got) != len(want) {
		t.Fatalf("%d Group events, want %d: %+v", len(got), len(want), got)
	}
	for i := range want {
		if got[i].sub != want[i].sub || !maps.Equal(got[i].details, want[i].details) {
			t.Errorf("event %d: %s %v, want %s %v", i, got[i].sub, got[i].details, want[i].sub, want[i].details)
		}
	}

	c := a.client()
	c.signIn("boss@acme.example")
	page := c.get("/events?type=Group")
	expectStatus(t, page, http.StatusOK)
	if !strings.Contains(page.body, `<option value="Group" selected`) {
		t.Errorf("the Type menu does not offer Group:\n%s", snippet(page.body))
	}
	if n := strings.Count(page.body, `data-testid="event-row"`); n != len(want) {
		t.Errorf("%d rows under type=Group, want %d", n, len(want))
	}
	for _, sub := range []string{"Group · Created", "Group · Members Added", "Group · Members Removed", "Group · Renamed", "Group · Deleted"} {
		if !strings.Contains(page.body, sub) {
			t.Errorf("Event Discovery does not show %q", sub)
		}
	}
}

// TestSCIMLargeGroup: a PUT of a group with 12,000 members (about 250 KB: more ids than
// SQLite takes in one statement) is stored whole; a PATCH adding one member then writes one
// row and one event, and Entra's excludedAttributes read skips the members.
func TestSCIMLargeGroup(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	s := a.scimFor(t, "acme", "Okta")
	const n = 12_000
	us := a.seedUsers(mustAccount(t, a, "acme"), n+1, nil)
	ids := make([]string, n)
	for i := range ids {
		ids[i] = strconv.FormatInt(us[i].ID, 10)
	}
	id := s.do(http.MethodPost, "/Groups", groupBody("Everyone")).str("id")
	if r := s.do(http.MethodPut, "/Groups/"+id, groupBody("Everyone", ids...)); r.status != http.StatusOK || len(memberValues(r.body)) != n {
		t.Fatalf("put: %d, %d members", r.status, len(memberValues(r.body)))
	}
	last := strconv.FormatInt(us[n].ID, 10)
	r := s.do(http.MethodPatch, "/Groups/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
		"Operations":[{"op":"Add","path":"members","value":[{"value":"`+last+`"}]}]}`)
	if r.status != http.StatusOK || len(memberValues(r.body)) != n+1 {
		t.Fatalf("patch: %d, %d members", r.status, len(memberValues(r.body)))
	}
	if r := s.do(http.MethodGet, "/Groups/"+id+"?excludedAttributes=members", ""); r.status != http.StatusOK || r.body["members"] != nil {
		t.Errorf("excludedAttributes: %d %.200s", r.status, r.raw)
	}
	if got := a.countSQL("SELECT COUNT(*) FROM directory_group_members WHERE group_id = ?", idNum(id)); got != n+1 {
		t.Errorf("%d memberships, want %d", got, n+1)
	}
	events := a.groupEvents(t, "Okta")
	if len(events) != 3 || events[1].details["count"] != strconv.Itoa(n) || events[2].details["count"] != "1" ||
		!strings.HasSuffix(events[1].details["names"], "and "+strconv.Itoa(n-5)+" more") {
		t.Errorf("events %+v", events)
	}
}
