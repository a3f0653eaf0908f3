//go:build bench

package handlers_test

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/secret"
)

// scimCreateUsers is how many users one iteration of BenchmarkSCIMCreate creates, one request each.
const scimCreateUsers = 10_000

// BenchmarkSCIMCreate measures SCIM user creation as an identity provider pushes it: 10,000
// POST /scim/v2/Users, one user each, from 16 concurrent clients over real HTTP (loopback TCP,
// keep-alive connections) under the default provisioning settings (Invitation Email, directory
// users invited; no SMTP server, so the invitations are held). In the same run, 16 goroutines on
// 16 database connections do every write of those creates in raw SQL, one transaction per user:
// the token's last use, the user, its Created event, the retired and new activation token, the
// user marked invited, the invitation email and its Invited event. x_raw = product time / raw
// time; the latencies of both are reported (p50, p99).
func BenchmarkSCIMCreate(b *testing.B) { b.Run(benchDB(b), benchSCIMCreate) }

func benchSCIMCreate(b *testing.B) {
	s := freshBenchStore(b)
	a := newAppOn(b, s)
	ctx := context.Background()
	boss := a.createAdmin("bench", "bench@example.com", models.RoleAdmin)
	token, err := a.Directory.IssueSCIMToken(ctx, "bench", "Okta", models.Actor{Type: models.ActorSystem})
	if err != nil {
		b.Fatal(err)
	}
	// 16 clients, each keeping its connection open, as an identity provider's workers do.
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16, MaxConnsPerHost: 16}}
	b.Cleanup(hc.CloseIdleConnections)
	create := func(email string) error {
		given := strings.TrimSuffix(email, "@bench.test")
		req, _ := http.NewRequest(http.MethodPost, a.srv.URL+"/scim/v2/Users", strings.NewReader(userBody(email, given, "Bench")))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := hc.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusCreated {
			return benchError(fmt.Sprintf("%s: %d %s", email, res.StatusCode, body))
		}
		return nil
	}
	raw := newRawSCIMCreate(b, s.SQLDB(), boss.AccountID)

	runCreates(b, a, raw, createRun{product: "scim", n: scimCreateUsers, create: create, origin: "directory:Okta", actor: models.ActorDirectory,
		rawMetric: "raw", ratioMetric: "x_raw"})
}

// createRun is one benchmark of user creates against rawUserCreate: n creates by create per
// iteration (emails prefixed product), checked to write what the raw ones write (origin, the
// events' actor type), reported with rawMetric (raw-ns/op for "raw", else <rawMetric>-raw-ns/op)
// and ratioMetric.
type createRun struct {
	product                string
	n                      int
	create                 func(email string) error
	origin                 string
	actor                  models.ActorType
	rawMetric, ratioMetric string
}

// runCreates runs b.N iterations of the product's creates, then the same creates in raw SQL
// (interleaved: each product phase is followed by its raw phase), from 16 concurrent clients
// each, checks that both wrote every row of a create, and reports both.
func runCreates(b *testing.B, a *testApp, raw *rawUserCreate, r createRun) {
	var apiLat, rawLat []time.Duration
	var rawTime time.Duration
	b.ResetTimer()
	for i := range b.N {
		emails := func(prefix string) []string {
			out := make([]string, r.n)
			for j := range out {
				out[j] = fmt.Sprintf("%s%d-%05d@bench.test", prefix, i, j)
			}
			return out
		}
		lat, _, err := latencies(emails(r.product), r.create)
		if err != nil {
			b.Fatal(err)
		}
		apiLat = append(apiLat, lat...)
		b.StopTimer()
		if i == 0 {
			raw.copyMail(b)
		}
		lat, took, err := latencies(emails("raw"), raw.create)
		if err != nil {
			b.Fatal(err)
		}
		rawLat, rawTime = append(rawLat, lat...), rawTime+took
		// Both wrote the same rows: a user invited, two events, a token and a held email each.
		for _, prefix := range []string{r.product, "raw"} {
			got := a.countSQL(`SELECT COUNT(*) FROM sdp_users u WHERE u.account_id = ? AND u.email LIKE ?
				AND u.activation = 'invitation_sent' AND u.origin = ?
				AND EXISTS (SELECT 1 FROM one_time_tokens t WHERE t.sdp_user_id = u.id AND t.purpose = 'user_activation' AND t.used_at IS NULL)
				AND EXISTS (SELECT 1 FROM mail_messages m WHERE m.sdp_user_id = u.id AND m.status = 'held')
				AND (SELECT COUNT(*) FROM events e WHERE e.account_id = u.account_id AND e.sdp_user_id = u.id AND e.sub_type IN ('Created', 'Invited')
					AND e.actor_type = ?) = 2`,
				raw.accountID, fmt.Sprintf("%s%d-%%", prefix, i), r.origin, r.actor)
			if got != r.n {
				b.Fatalf("%s: %d of %d users have every row of a create", prefix, got, r.n)
			}
		}
		b.StartTimer()
	}
	b.StopTimer()
	apiTime := b.Elapsed()
	users := float64(b.N * r.n)
	rawName := "raw"
	if r.rawMetric != "raw" {
		rawName = "raw_" + r.rawMetric
	}
	b.ReportMetric(users/apiTime.Seconds(), "creates/s")
	b.ReportMetric(float64(percentile(apiLat, 0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(apiLat, 0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(users/rawTime.Seconds(), rawName+"-creates/s")
	b.ReportMetric(float64(percentile(rawLat, 0.50).Microseconds())/1000, rawName+"-p50-ms")
	b.ReportMetric(float64(percentile(rawLat, 0.99).Microseconds())/1000, rawName+"-p99-ms")
	if r.rawMetric == "raw" {
		b.ReportMetric(float64(rawTime.Nanoseconds())/float64(b.N), "raw-ns/op")
	} else {
		b.ReportMetric(float64(rawTime.Nanoseconds())/float64(b.N), r.rawMetric+"-raw-ns/op")
	}
	b.ReportMetric(float64(apiTime.Nanoseconds())/float64(rawTime.Nanoseconds()), r.ratioMetric)
}

// rawUserCreate writes what creating one user writes under the default settings (invited;
// the invitation held), in raw SQL: by SCIM (newRawSCIMCreate) or the admin API (apiCreateBench).
type rawUserCreate struct {
	db        *sql.DB
	accountID int64
	// touch records the token's last use: $1 time, $2 address, $3 account, $4 token.
	touch   string
	tokenID int64
	// directoryID is the SCIM directory creating the users (nil: the API, origin manual).
	directoryID *int64
	origin      string
	// The events' actor, and the Invited event's reason.
	actorType          models.ActorType
	actorID            int64
	actorLabel, reason string
	// The invitation's subject and bodies, copied from one the product rendered (the rows are the
	// same size).
	subject, text, html string
	// touched is when the token's last use was written: at most once a minute, as the
	// authentication does.
	touchMu sync.Mutex
	touched time.Time
}

func newRawSCIMCreate(b *testing.B, db *sql.DB, accountID int64) *rawUserCreate {
	b.Helper()
	r := &rawUserCreate{db: db, accountID: accountID, origin: "directory:Okta", actorType: models.ActorDirectory, actorLabel: "Okta",
		reason: "new directory user", touch: "UPDATE directory_tokens SET last_used_at = $1, last_used_ip = $2 WHERE account_id = $3 AND id = $4"}
	var dir int64
	if err := db.QueryRow("SELECT id, directory_id FROM directory_tokens WHERE account_id = $1", accountID).Scan(&r.tokenID, &dir); err != nil {
		b.Fatal(err)
	}
	r.directoryID, r.actorID = &dir, dir
	return r
}

func (r *rawUserCreate) copyMail(b *testing.B) {
	b.Helper()
	if err := r.db.QueryRow("SELECT subject, text_body, html_body FROM mail_messages WHERE account_id = $1 AND kind = $2 ORDER BY id LIMIT 1",
		r.accountID, models.MailInvitation).Scan(&r.subject, &r.text, &r.html); err != nil {
		b.Fatal(err)
	}
}

// create is one user's statements: the token's use (outside the transaction and at most once
// a minute, as the authentication does), then the user and everything its invitation writes in one transaction.
func (r *rawUserCreate) create(email string) error {
	now := time.Now().UTC()
	r.touchMu.Lock()
	touch := now.Sub(r.touched) >= time.Minute
	if touch {
		r.touched = now
	}
	r.touchMu.Unlock()
	if touch {
		if _, err := r.db.Exec(r.touch, now, "127.0.0.1", r.accountID, r.tokenID); err != nil {
			return err
		}
	}
	tx, err := r.db.Begin()
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	given := strings.TrimSuffix(email, "@bench.test")
	var externalID, userName *string
	if r.directoryID != nil {
		ext := "ext-" + given
		externalID, userName = &ext, &email
	}
	var id int64
	err = tx.QueryRow(`INSERT INTO sdp_users (account_id, first_name, last_name, email, phone, origin, directory_id, external_id, user_name,
		status, activation, mfa_configured, totp_secret, totp_last_step, password_hash, name_key, devices, created_at, updated_at)
		VALUES ($1, $2, 'Bench', $3, '', $11, $4, $5, $12, $6, $7, $8, '', 0, '', $9, 0, $10, $10) RETURNING id`,
		r.accountID, given, email, r.directoryID, externalID, models.UserEnabled, models.ActivationNew, false,
		models.UserNameKey(given, "Bench"), now, r.origin, userName).Scan(&id)
	// Each statement runs while the ones before it succeeded; the first error is kept.
	exec := func(q string, args ...any) {
		if err == nil {
			_, err = tx.Exec(q, args...)
		}
	}
	event := func(sub, details string) {
		exec(`INSERT INTO events (account_id, occurred_at, type, sub_type, actor_type, actor_id, actor_label, email, sdp_user_id, source_ip, details)
			VALUES ($1, $2, $3, $4, $5, $6, $10, $7, $8, '127.0.0.1', $9)`,
			r.accountID, now, models.EventUser, sub, r.actorType, r.actorID, email, id, details, r.actorLabel)
	}
	link := secret.Token()
	event(models.SubUserCreated, `{"origin":"`+r.origin+`"}`)
	exec("UPDATE one_time_tokens SET used_at = $1 WHERE purpose = $2 AND used_at IS NULL AND sdp_user_id IN ($3)",
		now, models.TokenUserActivation, id)
	exec("INSERT INTO one_time_tokens (purpose, token_hash, account_id, sdp_user_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
		models.TokenUserActivation, secret.Hash(link), r.accountID, id, now.Add(24*time.Hour), now)
	exec("UPDATE sdp_users SET activation = $1, updated_at = $2 WHERE account_id = $3 AND id IN ($4)",
		models.ActivationInvitationSent, now, r.accountID, id)
	exec(`INSERT INTO mail_messages (account_id, sdp_user_id, kind, to_email, subject, text_body, html_body, secret, message_id, status, attempts, last_error, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, '', $11, $11)`,
		r.accountID, id, models.MailInvitation, email, r.subject, r.text, r.html, "http://onramp.test/myvpn/activate/"+link,
		"<"+secret.Token()+"@onramp.test>", models.MailHeld, now)
	event(models.SubUserInvited, `{"reason":"`+r.reason+`"}`)
	if err != nil {
		return err
	}
	return tx.Commit()
}
