package directory_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"onramp/models"
	"onramp/models/directory"
	"onramp/models/directory/ldaptest"
	"onramp/models/jobs"
	"onramp/models/mail"
	"onramp/models/secret"
	"onramp/models/services"
	"onramp/models/store"
	"onramp/models/store/storetest"
	"onramp/models/users"
	"onramp/views/emails"
)

// syncEnv is an account with an admin and an LDAP directory "Corp" reading a real slapd.
type syncEnv struct {
	t     *testing.T
	store *store.Store
	sv    *services.Services
	acct  *models.Account
	admin *models.Admin
	dir   *models.Directory
	slapd *ldaptest.Slapd
}

func person(uid string) string { return ldaptest.PersonDN(uid) }

// people is the seed: seven enabled people, "old" disabled by its employeeType, and groups
// outer {ann, inner {cid, dee}}.
func people() string { return ldaptest.People() }

// newSyncEnv starts slapd with ldif; edit may change the account's settings and the
// directory's before they are saved. The safety limits are off unless edit sets them.
func newSyncEnv(t *testing.T, ldif string, edit func(*models.Account, *models.LDAPSettings)) *syncEnv {
	t.Helper()
	slapd := ldaptest.StartSlapd(t, ldif)
	l := &models.LDAPSettings{URL: slapd.URL, BindDN: ldaptest.ReaderDN, BaseDN: ldaptest.PeopleDN, Preset: "openldap",
		DisabledAttr: "employeeType", DisabledValue: "disabled"}
	e := newEnv(t, l, ldaptest.ReaderPassword, edit)
	e.slapd = slapd
	// The reader may read 3 entries a page: the sync reads the directory over several pages.
	e.sv.Directory.SetPageSize(ldaptest.SizeLimit)
	return e
}

// newEnv builds the services over a fresh database with the account acme, its admin and
// the LDAP directory Corp with the settings l (edit applied) and bind password.
func newEnv(t *testing.T, l *models.LDAPSettings, password string, edit func(*models.Account, *models.LDAPSettings)) *syncEnv {
	t.Helper()
	ctx := t.Context()
	s := storetest.Open(t)
	e := &syncEnv{t: t, store: s, acct: models.NewAccount("acme")}
	if edit != nil {
		edit(e.acct, l)
	}
	if err := s.CreateAccount(ctx, e.acct); err != nil {
		t.Fatal(err)
	}
	// A console admin with the email of a directory user: a sync never touches admins.
	e.admin = &models.Admin{AccountID: e.acct.ID, Email: "ann@example.test", Name: "Ann Admin", Role: models.RoleAdmin, Status: models.AdminActive}
	if err := s.CreateAdmin(ctx, e.admin); err != nil {
		t.Fatal(err)
	}
	sv, err := services.New(s, services.Config{Keys: secret.NewKeys([]byte("directory sync test secret, 32 bytes+")),
		Renderer: emails.NewRenderer("https://onramp.test"), BaseURL: "https://onramp.test", Mail: mail.Config{From: "Onramp <onramp@example.test>"},
		Jobs: jobs.Config{PollInterval: 20 * time.Millisecond, RetryDelay: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	e.sv = sv
	if e.dir, err = sv.Directory.AddLDAP(ctx, e.acct.ID, "Corp", l, password); err != nil {
		t.Fatal(err)
	}
	return e
}

// startJobs runs the job queue (the sync worker) until the test ends.
func (e *syncEnv) startJobs() {
	e.t.Helper()
	if err := e.sv.Jobs.Start(e.t.Context()); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = e.sv.Jobs.Stop(ctx)
	})
}

// sync runs a sync in the foreground, as `onramp directory sync` does.
func (e *syncEnv) sync() *models.DirectorySync {
	e.t.Helper()
	ds, err := e.sv.Directory.SyncNow(e.t.Context(), "acme", "Corp", models.Actor{Type: models.ActorSystem, Label: "test"})
	if err != nil {
		e.t.Fatalf("sync: %v", err)
	}
	return ds
}

// users returns the directory's users in Onramp by email.
func (e *syncEnv) users() map[string]models.SDPUser {
	e.t.Helper()
	us, err := e.store.DirectoryUsersAfter(e.t.Context(), e.acct.ID, e.dir.ID, 0, 10_000)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]models.SDPUser{}
	for _, u := range us {
		out[u.Email] = u
	}
	return out
}

// events returns the account's events, newest first.
func (e *syncEnv) events() []models.Event {
	e.t.Helper()
	evs, err := e.store.RecentEvents(e.t.Context(), e.acct.ID, 10_000)
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

// mails counts the account's queued messages of a kind by recipient.
func (e *syncEnv) mails(kind models.MailKind) map[string]int {
	e.t.Helper()
	page, err := e.store.ListMailMessages(e.t.Context(), e.acct.ID, 0, 1000)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]int{}
	for _, m := range page.Messages {
		if m.Kind == kind {
			out[m.ToEmail]++
		}
	}
	return out
}

// ldap is a connection bound as the directory's manager, to change it.
func (e *syncEnv) ldap() *goldap.Conn {
	e.t.Helper()
	conn, err := goldap.DialURL(e.slapd.URL)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { _ = conn.Close() })
	if err := conn.Bind(ldaptest.ManagerDN, ldaptest.Password); err != nil {
		e.t.Fatal(err)
	}
	return conn
}

func (e *syncEnv) settings() *models.LDAPSettings {
	e.t.Helper()
	l, err := e.store.LDAPSettings(e.t.Context(), e.acct.ID, e.dir.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return l
}

func (e *syncEnv) saveSettings(l *models.LDAPSettings) {
	e.t.Helper()
	if err := e.store.SaveLDAPSettings(e.t.Context(), l); err != nil {
		e.t.Fatal(err)
	}
}

type counts struct{ created, updated, disabled, deleted, unchanged, skipped int }

func wantDone(t *testing.T, ds *models.DirectorySync, want counts) {
	t.Helper()
	got := counts{ds.Created, ds.Updated, ds.Disabled, ds.Deleted, ds.Unchanged, ds.Skipped}
	if ds.Status != models.SyncDone || got != want {
		t.Fatalf("sync %s (%s): counts %+v, want %+v", ds.Status, ds.Error, got, want)
	}
}

func modify(t *testing.T, conn *goldap.Conn, dn string, attr string, values ...string) {
	t.Helper()
	m := goldap.NewModifyRequest(dn, nil)
	m.Replace(attr, values)
	if err := conn.Modify(m); err != nil {
		t.Fatalf("modify %s: %v", dn, err)
	}
}

func addPerson(t *testing.T, conn *goldap.Conn, uid, email string) {
	t.Helper()
	a := goldap.NewAddRequest(person(uid), nil)
	a.Attribute("objectClass", []string{"inetOrgPerson"})
	a.Attribute("uid", []string{uid})
	a.Attribute("cn", []string{uid})
	a.Attribute("sn", []string{"Again"})
	a.Attribute("givenName", []string{strings.ToUpper(uid[:1]) + uid[1:]})
	a.Attribute("mail", []string{email})
	if err := conn.Add(a); err != nil {
		t.Fatalf("add %s: %v", uid, err)
	}
}

// eventsOf returns the events of a type and sub-type, newest first.
func eventsOf(evs []models.Event, typ models.EventType, sub string) []models.Event {
	var out []models.Event
	for _, ev := range evs {
		if ev.Type == typ && ev.SubType == sub {
			out = append(out, ev)
		}
	}
	return out
}

// TestSyncInitialImportInvitesAndIsIdempotent: the first sync creates every entry (more than
// one page: the reader gets 3 entries a page), the disabled one disabled; under Invitation
// Email with option 2 each enabled user is invited in the sync; the admin who shares an
// email stays as they were. A second sync finds nothing to do and writes nothing about users.
func TestSyncInitialImportInvitesAndIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, people(), nil)
	adminBefore, err := e.store.Admin(t.Context(), e.acct.ID, e.admin.ID)
	if err != nil {
		t.Fatal(err)
	}
	ds := e.sync()
	wantDone(t, ds, counts{created: 8})
	if ds.Seen != 8 || ds.Total != 8 || ds.Cause != models.SyncCLI {
		t.Fatalf("progress %d/%d, cause %s", ds.Seen, ds.Total, ds.Cause)
	}
	us := e.users()
	ann, old := us["ann@example.test"], us["old@example.test"]
	if len(us) != 8 || ann.Origin != "directory:Corp" || ann.FirstName != "Ann" || ann.LastName != "Tester" || ann.Phone != "+1 555 0100" ||
		ann.ExternalID == nil || len(*ann.ExternalID) != 36 || ann.Status != models.UserEnabled || ann.Activation != models.ActivationInvitationSent {
		t.Fatalf("users after the first sync: %d, ann %+v", len(us), ann)
	}
	if old.Status != models.UserDisabled || old.Activation != models.ActivationNew {
		t.Fatalf("old (employeeType disabled) is %s/%s", old.Status, old.Activation)
	}
	invites := e.mails(models.MailInvitation)
	if len(invites) != 7 || invites["ann@example.test"] != 1 || invites["old@example.test"] != 0 {
		t.Fatalf("invitations %v, want one to each of the 7 enabled users", invites)
	}
	admin, err := e.store.Admin(t.Context(), e.acct.ID, e.admin.ID)
	if err != nil || *admin != *adminBefore {
		t.Fatalf("the admin with a directory user's email changed: %+v, %v", admin, err)
	}
	evs := e.events()
	if n := len(eventsOf(evs, models.EventUser, models.SubUserCreated)); n != 8 {
		t.Fatalf("%d User / Created events, want 8", n)
	}
	started, finished := eventsOf(evs, models.EventDirectorySync, models.SubSyncStarted), eventsOf(evs, models.EventDirectorySync, models.SubSyncFinished)
	if len(started) != 1 || len(finished) != 1 || !strings.Contains(finished[0].Details, `"created":"8"`) ||
		!strings.Contains(finished[0].Details, `"unchanged":"0"`) || finished[0].ActorType != models.ActorDirectory {
		t.Fatalf("sync events: started %+v, finished %+v", started, finished)
	}

	again := e.sync()
	wantDone(t, again, counts{unchanged: 8})
	after := e.users()
	for email, u := range us {
		if !after[email].UpdatedAt.Equal(u.UpdatedAt) || after[email].ID != u.ID {
			t.Fatalf("the second sync wrote %s: %+v -> %+v", email, u, after[email])
		}
	}
	if n := len(e.events()) - len(evs); n != 2 {
		t.Fatalf("the second sync wrote %d events, want Started and Finished only", n)
	}
	if got := e.mails(models.MailInvitation); len(got) != 7 || got["ann@example.test"] != 1 {
		t.Fatalf("the second sync mailed again: %v", got)
	}
}

// TestSyncRegistrationCodeIssuesCodes: under Registration Code, each user a sync creates gets
// a code, as a console user does.
func TestSyncRegistrationCodeIssuesCodes(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, ldaptest.Person("ann", "Ann", "Tester", "ann@example.test")+ldaptest.Person("bob", "Bob", "Tester", "bob@example.test"),
		func(a *models.Account, _ *models.LDAPSettings) { a.ProvisioningMethod = models.MethodRegistrationCode })
	wantDone(t, e.sync(), counts{created: 2})
	for email, listed := range e.users() {
		u, err := e.store.User(t.Context(), e.acct.ID, listed.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.ActiveCodes != 1 || !u.HadCode {
			t.Fatalf("%s has %d active codes, want 1", email, u.ActiveCodes)
		}
	}
	if got := e.mails(models.MailInvitation); len(got) != 0 {
		t.Fatalf("invitations under Registration Code: %v", got)
	}
}

// TestSyncFollowsTheDirectory: a rename (a new DN) is the same user, unchanged; an email and a
// name change update the same user; a disabled entry disables its user (with the notice of
// option 3) and enabling it again enables them; an entry gone from the directory deletes its
// user.
func TestSyncFollowsTheDirectory(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, people(), nil)
	wantDone(t, e.sync(), counts{created: 8})
	before := e.users()
	conn := e.ldap()
	if err := conn.ModifyDN(goldap.NewModifyDNRequest(person("bob"), "uid=robert", true, "")); err != nil {
		t.Fatal(err)
	}
	modify(t, conn, person("cid"), "mail", "cid.new@example.test")
	modify(t, conn, person("cid"), "sn", "Renamed")
	modify(t, conn, person("ann"), "employeeType", "disabled")
	if err := conn.Del(goldap.NewDelRequest(person("dee"), nil)); err != nil {
		t.Fatal(err)
	}

	wantDone(t, e.sync(), counts{updated: 1, disabled: 1, deleted: 1, unchanged: 5})
	after := e.users()
	if after["bob@example.test"].ID != before["bob@example.test"].ID || !after["bob@example.test"].UpdatedAt.Equal(before["bob@example.test"].UpdatedAt) {
		t.Fatal("the renamed bob is not the same, unchanged user")
	}
	cid := after["cid.new@example.test"]
	if cid.ID != before["cid@example.test"].ID || cid.LastName != "Renamed" {
		t.Fatalf("cid after the email change: %+v", cid)
	}
	if _, ok := after["dee@example.test"]; ok {
		t.Fatal("dee, gone from the directory, is still there")
	}
	if after["ann@example.test"].Status != models.UserDisabled {
		t.Fatal("ann, disabled in the directory, is enabled")
	}
	if n := e.mails(models.MailDisabledNotice)["ann@example.test"]; n != 1 {
		t.Fatalf("%d disable notices to ann, want 1 (option 3)", n)
	}
	evs := e.events()
	updated := eventsOf(evs, models.EventUser, models.SubUserUpdated)
	if len(updated) != 1 || !strings.Contains(updated[0].Details, "cid@example.test → cid.new@example.test") || updated[0].ActorType != models.ActorDirectory {
		t.Fatalf("User / Updated events: %+v", updated)
	}
	if disabled := eventsOf(evs, models.EventUser, models.SubUserDisabled); len(disabled) != 2 || disabled[0].Email != "ann@example.test" {
		t.Fatalf("Disabled events (old at creation, then ann): %+v", disabled)
	}
	if deleted := eventsOf(evs, models.EventUser, models.SubUserDeleted); len(deleted) != 1 || deleted[0].Email != "dee@example.test" {
		t.Fatalf("Deleted events: %+v", deleted)
	}

	modify(t, conn, person("ann"), "employeeType", "staff")
	wantDone(t, e.sync(), counts{updated: 1, unchanged: 6})
	if e.users()["ann@example.test"].Status != models.UserEnabled {
		t.Fatal("ann, enabled again in the directory, is still disabled")
	}
	if len(eventsOf(e.events(), models.EventUser, models.SubUserEnabled)) != 1 {
		t.Fatal("no User / Enabled event")
	}
}

// TestSyncIdentityTakeover: an account deleted and created again with the same email has a
// new entryUUID; it takes the existing user over (same user, new external id, an event that
// says so) rather than failing the sync or deleting the user.
func TestSyncIdentityTakeover(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, people(), nil)
	wantDone(t, e.sync(), counts{created: 8})
	before := e.users()["eve@example.test"]
	conn := e.ldap()
	if err := conn.Del(goldap.NewDelRequest(person("eve"), nil)); err != nil {
		t.Fatal(err)
	}
	addPerson(t, conn, "eve2", "Eve@Example.test")

	wantDone(t, e.sync(), counts{updated: 1, unchanged: 7})
	after := e.users()["eve@example.test"]
	if after.ID != before.ID || after.ExternalID == nil || *after.ExternalID == *before.ExternalID || after.LastName != "Again" {
		t.Fatalf("eve after the takeover: %+v (before %+v)", after, before)
	}
	updated := eventsOf(e.events(), models.EventUser, models.SubUserUpdated)
	if len(updated) != 1 || !strings.Contains(updated[0].Details, "taken over from "+*before.ExternalID) {
		t.Fatalf("no takeover event: %+v", updated)
	}
}

// TestSyncSkipsAnEmailOfAnotherOrigin: a directory entry whose email a Manual user has is
// skipped (counted, with why, in the Finished event): the Manual user is not taken.
func TestSyncSkipsAnEmailOfAnotherOrigin(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, people(), nil)
	manual, err := e.sv.Users.Create(t.Context(), e.admin, "127.0.0.1", users.CreateInput{FirstName: "Fay", LastName: "Manual", Email: "fay@example.test"})
	if err != nil {
		t.Fatal(err)
	}
	wantDone(t, e.sync(), counts{created: 7, skipped: 1})
	u, err := e.store.User(t.Context(), e.acct.ID, manual.User.ID)
	if err != nil || u.Origin != models.OriginManual || u.LastName != "Manual" || u.DirectoryID != nil {
		t.Fatalf("the manual user was taken: %+v, %v", u, err)
	}
	finished := eventsOf(e.events(), models.EventDirectorySync, models.SubSyncFinished)
	if len(finished) != 1 || !strings.Contains(finished[0].Details, `"skipped":"1"`) || !strings.Contains(finished[0].Details, "fay@example.test") {
		t.Fatalf("Finished event: %+v", finished)
	}
	ds, err := e.sv.Directory.DirectorySyncs(t.Context(), e.admin, e.dir.ID, 1)
	if err != nil || len(ds) != 1 || !strings.Contains(ds[0].SkipReasons, "another origin") {
		t.Fatalf("skip reasons on the sync: %+v, %v", ds, err)
	}
}

// TestSyncNestedGroup: with a group set, only its members are synced, nested groups included.
func TestSyncNestedGroup(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, people(), func(_ *models.Account, l *models.LDAPSettings) {
		l.GroupDN = "cn=outer," + ldaptest.GroupsDN
		// The groups are outside the people OU: the reader searches the whole tree.
		l.BaseDN = ldaptest.Suffix
	})
	wantDone(t, e.sync(), counts{created: 3})
	us := e.users()
	for _, email := range []string{"ann@example.test", "cid@example.test", "dee@example.test"} {
		if _, ok := us[email]; !ok {
			t.Fatalf("%s (outer, or inner inside outer) was not synced: %v", email, us)
		}
	}
}

// TestSyncSafetyLimitThenApproval: a sync that would disable and delete more than the limit
// is blocked with nothing changed and a Failed event naming the limit; an admin approves that
// one sync (a background job), which then applies; a later over-limit sync is blocked again.
func TestSyncSafetyLimitThenApproval(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, people(), func(_ *models.Account, l *models.LDAPSettings) { l.LimitCount, l.LimitPercent = 2, 50 })
	e.startJobs()
	ctx := t.Context()
	wantDone(t, e.sync(), counts{created: 8})
	if _, err := e.sv.Directory.StartSync(ctx, e.admin, "127.0.0.1", e.dir.ID, true); !isValidation(err) {
		t.Fatalf("approving a sync that was not blocked: %v", err)
	}
	conn := e.ldap()
	for _, uid := range []string{"eve", "fay"} {
		if err := conn.Del(goldap.NewDelRequest(person(uid), nil)); err != nil {
			t.Fatal(err)
		}
	}
	modify(t, conn, person("gus"), "employeeType", "disabled")

	blocked := e.sync()
	if blocked.Status != models.SyncBlocked || !strings.Contains(blocked.Error, "disable 1 and delete 2 users (3 in all), over the limit of 2 users") {
		t.Fatalf("over the limit: %s %q", blocked.Status, blocked.Error)
	}
	if us := e.users(); len(us) != 8 || us["gus@example.test"].Status != models.UserEnabled {
		t.Fatal("a blocked sync changed users")
	}
	failedEvents := eventsOf(e.events(), models.EventDirectorySync, models.SubSyncFailed)
	if len(failedEvents) != 1 || !strings.Contains(failedEvents[0].Details, `"limit":"2 users"`) {
		t.Fatalf("Failed events: %+v", failedEvents)
	}

	approved, err := e.sv.Directory.StartSync(ctx, e.admin, "127.0.0.1", e.dir.ID, true)
	if err != nil || approved.Cause != models.SyncApproval || !approved.Approved {
		t.Fatalf("approve: %+v, %v", approved, err)
	}
	done := e.waitSync(approved.ID)
	wantDone(t, done, counts{disabled: 1, deleted: 2, unchanged: 5})
	if us := e.users(); len(us) != 6 || us["gus@example.test"].Status != models.UserDisabled {
		t.Fatalf("the approved sync did not apply: %d users", len(us))
	}
	started := eventsOf(e.events(), models.EventDirectorySync, models.SubSyncStarted)
	if started[len(started)-1].ActorType != models.ActorSystem || !hasActor(started, models.ActorAdmin, e.admin.Email) {
		t.Fatalf("the approval's Started event does not name the admin: %+v", started)
	}

	latest, err := e.sv.Directory.LatestSyncs(ctx, e.admin)
	if err != nil || latest[e.dir.ID].ID < done.ID {
		t.Fatalf("latest syncs: %+v, %v", latest, err)
	}
	helpdesk := &models.Admin{ID: e.admin.ID, AccountID: e.acct.ID, Role: models.RoleHelpdesk}
	if _, err := e.sv.Directory.StartSync(ctx, helpdesk, "127.0.0.1", e.dir.ID, false); !errors.Is(err, models.ErrForbidden) {
		t.Fatalf("helpdesk started a sync: %v", err)
	}
	other := &models.Admin{ID: e.admin.ID, AccountID: e.acct.ID + 1000, Role: models.RoleAdmin}
	if _, err := e.sv.Directory.StartSync(ctx, other, "127.0.0.1", e.dir.ID, false); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another account's admin started a sync: %v", err)
	}
	if _, err := e.sv.Directory.DirectorySync(ctx, other, e.dir.ID, done.ID); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("another account's admin read a sync: %v", err)
	}
}

func hasActor(evs []models.Event, typ models.ActorType, label string) bool {
	for _, ev := range evs {
		if ev.ActorType == typ && ev.ActorLabel == label {
			return true
		}
	}
	return false
}

func isValidation(err error) bool {
	var v *models.ValidationError
	return errors.As(err, &v)
}

// waitSync waits for a sync the job queue runs to finish.
func (e *syncEnv) waitSync(id int64) *models.DirectorySync {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		ds, err := e.sv.Directory.DirectorySync(e.t.Context(), e.admin, e.dir.ID, id)
		if err != nil {
			e.t.Fatal(err)
		}
		if !ds.Open() {
			return ds
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("sync %d still %s", id, ds.Status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestSyncZeroUsersChangesNothing: a search that finds no one where Onramp has the
// directory's users (a wrong base DN, an emptied group) fails the sync and deletes no one.
func TestSyncZeroUsersChangesNothing(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, people(), nil)
	wantDone(t, e.sync(), counts{created: 8})
	l := e.settings()
	l.BaseDN = ldaptest.GroupsDN
	e.saveSettings(l)
	ds := e.sync()
	if ds.Status != models.SyncFailed || !strings.Contains(ds.Error, "returned no users, but Corp has 8 users in Onramp: nothing was changed") {
		t.Fatalf("zero users: %s %q", ds.Status, ds.Error)
	}
	if len(e.users()) != 8 {
		t.Fatal("a sync that found no one deleted users")
	}
}

// TestSyncConnectionFailures: an unreachable server and a refused password fail the sync with
// a clear reason, in the sync and its Failed event, and change nothing.
func TestSyncConnectionFailures(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, people(), nil)
	wantDone(t, e.sync(), counts{created: 8})

	l := e.settings()
	e.sv.Directory.SetLDAPPassword(l, "not the password")
	e.saveSettings(l)
	ds := e.sync()
	if ds.Status != models.SyncFailed || !strings.Contains(ds.Error, "refused the bind DN or password") {
		t.Fatalf("bad credentials: %s %q", ds.Status, ds.Error)
	}

	l = e.settings()
	l.URL = "ldap://127.0.0.1:1"
	e.sv.Directory.SetLDAPPassword(l, ldaptest.ReaderPassword)
	e.saveSettings(l)
	ds = e.sync()
	if ds.Status != models.SyncFailed || !strings.Contains(ds.Error, "cannot be reached") {
		t.Fatalf("unreachable: %s %q", ds.Status, ds.Error)
	}
	failedEvents := eventsOf(e.events(), models.EventDirectorySync, models.SubSyncFailed)
	if len(failedEvents) != 2 || !strings.Contains(failedEvents[0].Details, "cannot be reached") || !strings.Contains(failedEvents[1].Details, "refused") {
		t.Fatalf("Failed events: %+v", failedEvents)
	}
	for _, ev := range e.events() {
		if strings.Contains(ev.Details, ldaptest.ReaderPassword) || strings.Contains(ev.Details, "not the password") {
			t.Fatalf("an event holds the bind password: %+v", ev)
		}
	}
	if us := e.users(); len(us) != 8 {
		t.Fatal("a failed sync changed users")
	}
}

// TestSyncRestartsARunningSync: a second start returns the open sync; a sync left running (its worker killed) runs again to the same
// end; a finished sync is not run twice.
func TestSyncRestartsARunningSync(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, people(), nil)
	ctx := t.Context()
	ds, err := e.sv.Directory.StartSync(ctx, e.admin, "127.0.0.1", e.dir.ID, false)
	if err != nil || ds.Cause != models.SyncManual || ds.AdminID == nil || *ds.AdminID != e.admin.ID {
		t.Fatalf("start: %+v, %v", ds, err)
	}
	if open, err := e.sv.Directory.StartSync(ctx, e.admin, "127.0.0.1", e.dir.ID, false); !errors.Is(err, directory.ErrSyncRunning) || open.ID != ds.ID {
		t.Fatalf("a second start while the first is open: %+v, %v", open, err)
	}
	if err := e.store.StartDirectorySync(ctx, ds, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if err := e.sv.Directory.RunSync(ctx, e.acct.ID, ds.ID); err != nil {
		t.Fatal(err)
	}
	done, err := e.sv.Directory.DirectorySync(ctx, e.admin, e.dir.ID, ds.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantDone(t, done, counts{created: 8})
	if err := e.sv.Directory.RunSync(ctx, e.acct.ID, ds.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(eventsOf(e.events(), models.EventDirectorySync, models.SubSyncFinished)); n != 1 {
		t.Fatalf("%d Finished events after running a done sync again", n)
	}

	// A sync that has not moved for long (its job is gone) gives way to a new start.
	stuck, err := e.sv.Directory.StartSync(ctx, e.admin, "127.0.0.1", e.dir.ID, false)
	if err != nil {
		t.Fatal(err)
	}
	stuck.UpdatedAt = time.Now().UTC().Add(-time.Hour)
	if err := e.store.SaveDirectorySync(ctx, stuck); err != nil {
		t.Fatal(err)
	}
	fresh, err := e.sv.Directory.StartSync(ctx, e.admin, "127.0.0.1", e.dir.ID, false)
	if err != nil || fresh.ID == stuck.ID {
		t.Fatalf("start beside a stuck sync: %+v, %v", fresh, err)
	}
	if old, err := e.sv.Directory.DirectorySync(ctx, e.admin, e.dir.ID, stuck.ID); err != nil || old.Status != models.SyncFailed || !strings.Contains(old.Error, "stopped making progress") {
		t.Fatalf("the stuck sync: %+v, %v", old, err)
	}
}

// TestSyncSchedule: a directory with a schedule gets a schedule sync when it is due, once
// (a second pass queues nothing while it is open or not yet due), and a sync moves the next
// time on.
func TestSyncSchedule(t *testing.T) {
	t.Parallel()
	e := newSyncEnv(t, people(), func(_ *models.Account, l *models.LDAPSettings) { l.ScheduleHours = 6 })
	ctx := t.Context()
	n, err := e.sv.Directory.QueueScheduledSyncs(ctx)
	if err != nil || n != 1 {
		t.Fatalf("queued %d, %v", n, err)
	}
	l := e.settings()
	if l.NextSyncAt == nil || time.Until(*l.NextSyncAt) < 5*time.Hour {
		t.Fatalf("next sync at %v", l.NextSyncAt)
	}
	l.NextSyncAt = nil
	e.saveSettings(l)
	if n, err := e.sv.Directory.QueueScheduledSyncs(ctx); err != nil || n != 0 {
		t.Fatalf("queued %d beside an open sync, %v", n, err)
	}
	syncs, err := e.sv.Directory.DirectorySyncs(ctx, e.admin, e.dir.ID, 10)
	if err != nil || len(syncs) != 1 || syncs[0].Cause != models.SyncSchedule || syncs[0].ActorType != models.ActorSystem {
		t.Fatalf("syncs %+v, %v", syncs, err)
	}
	if err := e.sv.Directory.RunSync(ctx, e.acct.ID, syncs[0].ID); err != nil {
		t.Fatal(err)
	}
	if l := e.settings(); l.NextSyncAt == nil || time.Until(*l.NextSyncAt) < 5*time.Hour {
		t.Fatalf("the sync did not move the schedule on: %v", l.NextSyncAt)
	}
}
