//go:build bench

package handlers_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	goldap "github.com/go-ldap/ldap/v3"

	"onramp/migrations"
	"onramp/models"
	"onramp/models/directory"
	"onramp/models/directory/ldap"
	"onramp/models/directory/ldaptest"
	"onramp/models/mail"
	"onramp/models/secret"
	"onramp/models/store"
	"onramp/views/emails"
)

// BenchmarkLDAPSync measures a full sync of an OpenLDAP directory of 100,000 users
// (BENCH_LDAP_USERS overrides) from a real slapd, seeded once per run with slapadd, under the
// default provisioning settings (new directory users are invited; no SMTP server, so the
// invitations are held): the first sync (every user new), a sync with no change, and one after
// 1% of the entries changed their first name. Next to each, in the same run, the same work
// done raw: the paged search of every entry with go-ldap (raw-read-ns/op) and one bulk upsert
// in SQL, INSERT … ON CONFLICT on the directory's id of the user in batches of 500 (50 on
// SQLite), with the rows the sync writes for the users it creates or changes (events,
// activation tokens, held invitations), in one transaction (raw-sql-ns/op).
// raw-ns/op is read + SQL, and x_raw = sync time / raw-ns/op.
func BenchmarkLDAPSync(b *testing.B) {
	n := benchSize(b, "BENCH_LDAP_USERS", 100_000)
	start := time.Now()
	slapd := ldaptest.StartSlapdBulk(b, n)
	b.Logf("slapd seeded with %d users in %s", n, time.Since(start).Round(time.Millisecond))
	lb := newLDAPBench(b, slapd, n)
	name := fmt.Sprintf("%s/users=%d/", benchDB(b), n)
	b.Run(name+"first", func(b *testing.B) {
		lb.measure(b, lb.reset, lb.reset, func(ds *models.DirectorySync) bool { return ds.Created == n })
	})
	b.Run(name+"unchanged", func(b *testing.B) {
		lb.ensureSynced(b)
		lb.measure(b, nil, lb.vacuum, func(ds *models.DirectorySync) bool { return ds.Unchanged == n && ds.Created+ds.Updated == 0 })
	})
	b.Run(name+"changed-1pct", func(b *testing.B) {
		lb.ensureSynced(b)
		lb.measure(b, lb.changeOnePercent, lb.vacuum, func(ds *models.DirectorySync) bool { return ds.Updated == n/100 && ds.Unchanged == n-n/100 })
	})
}

// ldapBench is an account with an LDAP directory "Corp" reading the bulk slapd.
type ldapBench struct {
	a       *testApp
	s       *store.Store
	slapd   *ldaptest.Slapd
	n       int
	account *models.Account
	dir     *models.Directory
	// round tells the changes of one changed-1pct iteration from the last one's.
	round int
	// The invitation's subject and bodies, rendered once, for the raw rows.
	invitation mail.Rendered
}

func newLDAPBench(b *testing.B, slapd *ldaptest.Slapd, n int) *ldapBench {
	b.Helper()
	s := freshBenchStore(b)
	lb := &ldapBench{a: newAppOn(b, s), s: s, slapd: slapd, n: n}
	ctx := context.Background()
	lb.a.createAdmin("bench", "bench@example.com", models.RoleAdmin)
	var err error
	if lb.account, err = s.AccountByName(ctx, "bench"); err != nil {
		b.Fatal(err)
	}
	// The settings as the console saves them, the safety limits off: the first sync creates
	// everyone.
	in := directory.NewLDAPInput(ldap.PresetOpenLDAP)
	in.Name, in.URL, in.BindDN, in.Password, in.BaseDN = "Corp", slapd.URL, ldaptest.ReaderDN, ldaptest.ReaderPassword, ldaptest.PeopleDN
	in.LimitCount, in.LimitPercent = 0, 0
	if lb.dir, err = lb.a.Directory.CreateLDAPDirectoryIn(ctx, "bench", models.Actor{Type: models.ActorSystem, Label: "bench"}, in); err != nil {
		b.Fatal(err)
	}
	now := time.Now().UTC()
	lb.invitation, err = emails.NewRenderer("http://onramp.test").Invitation(ctx, mail.Invitation{AccountID: lb.account.ID,
		AccountName: "bench", To: "user0000000@example.test", FirstName: "Given0", ActivationURL: models.MailSecretMark, ExpiresAt: now.Add(24 * time.Hour)})
	if err != nil {
		b.Fatal(err)
	}
	return lb
}

// sync runs a sync in the foreground, as `onramp directory sync` does, and checks its outcome.
func (lb *ldapBench) sync(b *testing.B, ok func(*models.DirectorySync) bool) {
	b.Helper()
	ds, err := lb.a.Directory.SyncNow(context.Background(), "bench", "Corp", models.Actor{Type: models.ActorSystem, Label: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	if ds.Status != models.SyncDone || (ok != nil && !ok(ds)) {
		b.Fatalf("sync %s (%s): created %d, updated %d, unchanged %d, skipped %d", ds.Status, ds.Error, ds.Created, ds.Updated, ds.Unchanged, ds.Skipped)
	}
}

// measure runs b.N rounds of: prepare (untimed), the raw read and upsert (rolled back), tidy
// (untimed: the sync must find the tables as the raw work did, not with its dead rows), then the
// sync (timed), which must end as ok says.
func (lb *ldapBench) measure(b *testing.B, prepare, tidy func(*testing.B), ok func(*models.DirectorySync) bool) {
	var read, write time.Duration
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		if prepare != nil {
			prepare(b)
		}
		r, w := lb.raw(b)
		read, write = read+r, write+w
		tidy(b)
		b.StartTimer()
		lb.sync(b, ok)
	}
	b.StopTimer()
	b.ReportMetric(float64(read.Nanoseconds())/float64(b.N), "raw-read-ns/op")
	b.ReportMetric(float64(write.Nanoseconds())/float64(b.N), "raw-sql-ns/op")
	b.ReportMetric(float64((read+write).Nanoseconds())/float64(b.N), "raw-ns/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64((read+write).Nanoseconds()), "x_raw")
}

// reset takes the account back to "the directory's users were never synced". On PostgreSQL
// it truncates the tables, which leaves them as a new database has them, never analyzed: after
// a DELETE, VACUUM ANALYZE records them as empty, and the foreign key checks of the first rows
// inserted then settle for a plan that scans the whole of sdp_users, a table that grows to
// 100,000 rows within the raw work's one transaction (its second round took minutes).
func (lb *ldapBench) reset(b *testing.B) {
	b.Helper()
	db := lb.s.SQLDB()
	if lb.s.Dialect() == migrations.Postgres {
		if _, err := db.Exec("TRUNCATE mail_messages, one_time_tokens, events, sdp_users CASCADE"); err != nil {
			b.Fatal(err)
		}
		return
	}
	// Children first: SQLite checks each deleted user's references, which no index of
	// mail_messages serves.
	for _, q := range []string{"DELETE FROM mail_messages WHERE account_id = $1", "DELETE FROM one_time_tokens WHERE account_id = $1",
		"DELETE FROM events WHERE account_id = $1", "DELETE FROM sdp_users WHERE account_id = $1"} {
		if _, err := db.Exec(q, lb.account.ID); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
	lb.vacuum(b)
}

// vacuum keeps the dead rows of the rounds before from slowing the next one on PostgreSQL.
func (lb *ldapBench) vacuum(b *testing.B) {
	b.Helper()
	for _, t := range []string{"sdp_users", "events", "mail_messages", "one_time_tokens"} {
		if _, err := lb.s.SQLDB().Exec(byDialect(lb.s, "VACUUM ANALYZE ", "ANALYZE ") + t); err != nil {
			b.Fatal(err)
		}
	}
}

// ensureSynced syncs once (untimed) unless Onramp has every user of the directory.
func (lb *ldapBench) ensureSynced(b *testing.B) {
	b.Helper()
	if lb.a.countSQL("SELECT COUNT(*) FROM sdp_users WHERE account_id = ? AND directory_id = ?", lb.account.ID, lb.dir.ID) != lb.n {
		lb.reset(b)
		lb.sync(b, nil)
	}
	lb.vacuum(b)
}

// changeOnePercent renames every hundredth person of the directory (over LDAP, as the manager).
func (lb *ldapBench) changeOnePercent(b *testing.B) {
	b.Helper()
	lb.round++
	conn := lb.bind(b, ldaptest.ManagerDN, ldaptest.Password)
	defer conn.Close()
	for i := 0; i < lb.n; i += 100 {
		uid, first, _, _ := ldaptest.BulkPerson(i)
		m := goldap.NewModifyRequest("uid="+uid+","+ldaptest.PeopleDN, nil)
		m.Replace("givenName", []string{fmt.Sprintf("%s-%d", first, lb.round)})
		if err := conn.Modify(m); err != nil {
			b.Fatal(err)
		}
	}
	lb.vacuum(b)
}

func (lb *ldapBench) bind(b *testing.B, dn, password string) *goldap.Conn {
	b.Helper()
	conn, err := goldap.DialURL(lb.slapd.URL)
	if err != nil {
		b.Fatal(err)
	}
	if err := conn.Bind(dn, password); err != nil {
		b.Fatal(err)
	}
	return conn
}

// ldapRow is one directory user as the raw read gets it.
type ldapRow struct{ id, email, first, last, phone string }

// raw reads every user with a plain paged search, then upserts them in one transaction that
// it rolls back (the sync that follows must find the database as it was), and returns the
// time of each part.
func (lb *ldapBench) raw(b *testing.B) (read, write time.Duration) {
	b.Helper()
	start := time.Now()
	conn := lb.bind(b, ldaptest.ReaderDN, ldaptest.ReaderPassword)
	res, err := conn.SearchWithPaging(goldap.NewSearchRequest(ldaptest.PeopleDN, goldap.ScopeWholeSubtree, goldap.NeverDerefAliases, 0, 0, false,
		"(objectClass=inetOrgPerson)", []string{"entryUUID", "mail", "givenName", "sn", "telephoneNumber"}, nil), ldap.DefaultPageSize)
	_ = conn.Close()
	if err != nil {
		b.Fatal(err)
	}
	rows := make([]ldapRow, len(res.Entries))
	for i, e := range res.Entries {
		rows[i] = ldapRow{id: e.GetAttributeValue("entryUUID"), email: strings.ToLower(e.GetAttributeValue("mail")),
			first: e.GetAttributeValue("givenName"), last: e.GetAttributeValue("sn"), phone: e.GetAttributeValue("telephoneNumber")}
	}
	read = time.Since(start)
	if len(rows) != lb.n {
		b.Fatalf("the raw read found %d users, want %d", len(rows), lb.n)
	}

	start = time.Now()
	tx, err := lb.s.SQLDB().Begin()
	if err != nil {
		b.Fatal(err)
	}
	defer func() { _ = tx.Rollback() }()
	created, updated := 0, 0
	now := time.Now().UTC()
	// 500 rows a statement, as the sync's batches; 50 on SQLite, as the store's insertBatch: its
	// driver binds each parameter by a search of all of them, so a statement of 10,000 costs
	// 100 times one of 1,000.
	batch := byDialect(lb.s, 500, 50)
	for from := 0; from < len(rows); from += batch {
		c, u := lb.upsert(b, tx, rows[from:min(from+batch, len(rows))], now)
		created, updated = created+c, updated+u
	}
	write = time.Since(start)
	if err := tx.Rollback(); err != nil {
		b.Fatal(err)
	}
	b.Logf("raw: read %d users in %s, created %d and updated %d in %s", len(rows), read.Round(time.Millisecond),
		created, updated, write.Round(time.Millisecond))
	return read, write
}

// upsert writes one batch: the users (new ones invited at once, changed ones updated, the
// others left alone), then the Created and Invited events, activation tokens and held
// invitations of the new ones and the Updated events of the changed ones.
func (lb *ldapBench) upsert(b *testing.B, tx *sql.Tx, rows []ldapRow, now time.Time) (created, updated int) {
	b.Helper()
	accountID, dirID := lb.account.ID, lb.dir.ID
	users := lb.values()
	for _, r := range rows {
		users.row(accountID, r.first, r.last, r.email, r.phone, "directory:Corp", dirID, r.id, models.UserEnabled, models.ActivationInvitationSent,
			false, "", 0, "", models.UserNameKey(r.first, r.last), 0, now, now)
	}
	res, err := tx.Query(`INSERT INTO sdp_users (account_id, first_name, last_name, email, phone, origin, directory_id, external_id, status, activation,
		mfa_configured, totp_secret, totp_last_step, password_hash, name_key, devices, created_at, updated_at)
		VALUES `+users.sql()+`
		ON CONFLICT (account_id, directory_id, external_id) WHERE external_id IS NOT NULL DO UPDATE SET
		first_name = excluded.first_name, last_name = excluded.last_name, email = excluded.email, phone = excluded.phone,
		name_key = excluded.name_key, updated_at = excluded.updated_at
		WHERE sdp_users.first_name <> excluded.first_name OR sdp_users.last_name <> excluded.last_name
		OR sdp_users.email <> excluded.email OR sdp_users.phone <> excluded.phone
		RETURNING id, email, created_at = updated_at`, users.args...)
	if err != nil {
		b.Fatal(err)
	}
	events, tokens, mails := lb.values(), lb.values(), lb.values()
	event := func(sub, email string, id int64, details string) {
		events.row(accountID, now, models.EventUser, sub, models.ActorDirectory, dirID, "Corp", email, id, "", details)
	}
	for res.Next() {
		var id int64
		var email string
		var isNew bool
		if err := res.Scan(&id, &email, &isNew); err != nil {
			b.Fatal(err)
		}
		if !isNew {
			updated++
			event(models.SubUserUpdated, email, id, `{"first_name":"changed"}`)
			continue
		}
		created++
		event(models.SubUserCreated, email, id, `{"origin":"directory:Corp"}`)
		event(models.SubUserInvited, email, id, `{"reason":"new directory user"}`)
		link := strconv.FormatInt(now.UnixNano(), 36) + "-" + strconv.FormatInt(id, 36)
		tokens.row(models.TokenUserActivation, secret.Hash(link), accountID, id, now.Add(24*time.Hour), now)
		mails.row(accountID, id, models.MailInvitation, email, lb.invitation.Subject, lb.invitation.Text, lb.invitation.HTML,
			"http://onramp.test/myvpn/activate/"+link, "<"+link+"@onramp.test>", models.MailHeld, 0, "", now, now)
	}
	if err := res.Close(); err != nil {
		b.Fatal(err)
	}
	for _, st := range []struct {
		head string
		v    *values
	}{
		{"INSERT INTO events (account_id, occurred_at, type, sub_type, actor_type, actor_id, actor_label, email, sdp_user_id, source_ip, details)", events},
		{"INSERT INTO one_time_tokens (purpose, token_hash, account_id, sdp_user_id, expires_at, created_at)", tokens},
		{`INSERT INTO mail_messages (account_id, sdp_user_id, kind, to_email, subject, text_body, html_body, secret, message_id, status,
			attempts, last_error, created_at, updated_at)`, mails},
	} {
		if len(st.v.tuples) == 0 {
			continue
		}
		if _, err := tx.Exec(st.head+" VALUES "+st.v.sql(), st.v.args...); err != nil {
			b.Fatalf("%s: %v", st.head, err)
		}
	}
	return created, updated
}

func (lb *ldapBench) values() *values { return &values{pg: lb.s.Dialect() == migrations.Postgres} }

// values is a multi-row VALUES list and its arguments. Its placeholders are $n on PostgreSQL
// and ? on SQLite, whose driver binds $n by name: with thousands of them a statement took
// half a second there.
type values struct {
	pg     bool
	args   []any
	tuples []string
}

// row adds a tuple of placeholders for vals.
func (v *values) row(vals ...any) {
	ps := make([]string, len(vals))
	for i, x := range vals {
		v.args = append(v.args, x)
		ps[i] = "?"
		if v.pg {
			ps[i] = "$" + strconv.Itoa(len(v.args))
		}
	}
	v.tuples = append(v.tuples, "("+strings.Join(ps, ", ")+")")
}

func (v *values) sql() string { return strings.Join(v.tuples, ", ") }
