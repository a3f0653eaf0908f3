//go:build bench

package handlers_test

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"onramp/handlers"
	"onramp/internal/loadgen"
	"onramp/migrations"
	"onramp/models"
	"onramp/models/codes"
	"onramp/models/mail"
	"onramp/models/secret"
	"onramp/models/services"
	"onramp/models/store"
	"onramp/views/emails"
)

// freshBenchStore is an empty, migrated database of its own (benchSchema), dropped after the
// benchmark.
func freshBenchStore(b *testing.B) *store.Store {
	b.Helper()
	raw := make([]byte, 4)
	_, _ = rand.Read(raw)
	return benchSchema(b, "bench_tmp_"+hex.EncodeToString(raw), true)
}

// latencies runs work for every item with 16 concurrent workers and returns each call's time.
func latencies(items []string, work func(string) error) ([]time.Duration, time.Duration, error) {
	ch := make(chan string)
	var mu sync.Mutex
	var out []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for it := range ch {
				t0 := time.Now()
				err := work(it)
				d := time.Since(t0)
				mu.Lock()
				out = append(out, d)
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for _, it := range items {
		ch <- it
	}
	close(ch)
	wg.Wait()
	return out, time.Since(start), firstErr
}

func percentile(ds []time.Duration, p float64) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

type benchError string

func (e benchError) Error() string { return string(e) }

// BenchmarkRedemption measures code redemption (POST /api/v1/client/register) driven over real
// HTTP by internal/loadgen: 16 clients on TCP connections kept alive, against a listener that
// serves the production wiring (services as serve builds them, the production pool size' cap of
// the bench store, the job queue running at its production poll interval). Each client redeems
// its own code of its own user. Beside it, in the same run and on the same database, 16
// goroutines run the raw baselines from Go (database/sql, no ORM):
//
//   - a: the bare conditional UPDATE that uses a code (what decides the winner);
//   - b: the same writes as a redemption, as separate statements in one transaction;
//   - c: the same writes in one statement with CTEs (PostgreSQL only: SQLite has no writing CTEs);
//   - cb: c's statement for batches of the codes waiting, as Onramp writes concurrent redemptions
//     on PostgreSQL (two batches at a time, up to 32 codes each).
//
// An iteration is one round of phases interleaved a, product, b, product, and so on, each of
// BENCH_REDEEM_CODES redemptions (default 1000), so that the machine's noise hits both sides.
// ns/op is the product's wall time per redemption (the inverse of its throughput); X-raw-ns/op
// and x_X = ns/op / X-raw-ns/op compare it with baseline X; p99-ms and raw_X-p99-ms are the
// latencies under the 16 clients.
func BenchmarkRedemption(b *testing.B) { b.Run(benchDB(b), benchRedemption) }

func benchRedemption(b *testing.B) {
	ctx := context.Background()
	s := freshBenchStore(b)
	a := newAppOn(b, s) // for its keys and sealer only: the server measured is built below
	base := serveProduction(b, s, a.keys)
	per := benchSize(b, "BENCH_REDEEM_CODES", 1000)
	baselines := []string{"a", "b", "c", "cb"}
	if s.Dialect() != migrations.Postgres {
		baselines = baselines[:2]
	}
	phases := 2 * len(baselines)
	pool := seedRedemptions(b, a, s, b.N*phases*per)
	raw := rawRedemption{db: s.SQLDB(), sealer: a.sealer, sqlite: s.Dialect() != migrations.Postgres}
	batching, stop := context.WithCancel(ctx)
	b.Cleanup(stop)
	raw.batches = raw.batcher(batching)
	// Each client from its own address, as VPN clients come: the failure budget of redemptions
	// is per address, and takes a token of it for every redemption in flight.
	hc := loadgen.Client(benchClients, loadgen.Loopback(benchClients)...)
	product := loadgen.Result{}
	rawRes := map[string]*loadgen.Result{}
	for _, name := range baselines {
		rawRes[name] = &loadgen.Result{}
	}
	b.ResetTimer()
	for range b.N {
		for _, name := range baselines {
			codes := pool[:per]
			pool = pool[per:]
			res, err := loadgen.Func(ctx, benchClients, per, func(ctx context.Context, i int) error {
				return raw.redeem(ctx, name, codes[i])
			})
			if err != nil {
				b.Fatalf("baseline %s: %v", name, err)
			}
			rawRes[name].Add(res)
			reqs := make([]loadgen.Request, per)
			for i, code := range pool[:per] {
				body, _ := json.Marshal(registerBody(code, "bench laptop"))
				reqs[i] = loadgen.Request{Method: http.MethodPost, URL: base + "/api/v1/client/register", Body: body,
					Header: http.Header{"Content-Type": {"application/json"}}, Want: http.StatusCreated}
			}
			pool = pool[per:]
			res, err = loadgen.HTTP(ctx, hc, benchClients, reqs)
			if err != nil {
				b.Fatalf("product: %v", err)
			}
			product.Add(res)
		}
	}
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(float64(product.PerOp().Nanoseconds()), "ns/op")
	b.ReportMetric(product.PerSecond(), "per-s")
	b.ReportMetric(ms(product.Percentile(0.99)), "p99-ms")
	for _, name := range baselines {
		r := rawRes[name]
		b.ReportMetric(float64(r.PerOp().Nanoseconds()), name+"-raw-ns/op")
		b.ReportMetric(float64(product.PerOp())/float64(r.PerOp()), "x_"+name)
		b.ReportMetric(ms(r.Percentile(0.99)), "raw_"+name+"-p99-ms")
	}
}

// benchClients is how many clients redeem at once.
const benchClients = 16

// serveProduction serves the application on a loopback TCP port as onramp serve wires it (the
// production services and their job queue at its production poll interval, the router, the
// server's timeouts) and returns its URL; it stops with the benchmark.
func serveProduction(b *testing.B, s *store.Store, keys *secret.Keys) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	log := slog.New(slog.DiscardHandler)
	// Mail held in the outbox, as serve keeps it without SMTP_URL.
	sv, err := services.New(s, services.Config{Keys: keys, BaseURL: base, Renderer: emails.NewRenderer(base), Logger: log,
		Mail: mail.Config{From: "Onramp <onramp@127.0.0.1>", Logger: log}})
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: handlers.New(sv, handlers.Config{Keys: keys, BaseURL: base, Logger: log}),
		ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 60 * time.Second, WriteTimeout: 10 * time.Minute, IdleTimeout: 2 * time.Minute}
	if err := sv.Jobs.Start(context.Background()); err != nil {
		b.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		_ = sv.Jobs.Stop(ctx)
	})
	return base
}

// seedRedemptions gives n new users of an account one active code each and returns the codes.
func seedRedemptions(b *testing.B, a *testApp, s *store.Store, n int) []string {
	b.Helper()
	ctx := context.Background()
	boss := a.createAdmin("bench", "bench@example.com", models.RoleAdmin)
	us := a.seedUsers(boss.AccountID, n, nil)
	now := time.Now().UTC()
	out := make([]string, n)
	cs := make([]*models.RegistrationCode, n)
	for i, u := range us {
		code := codes.New()
		out[i] = codes.Format(code)
		cs[i] = &models.RegistrationCode{AccountID: u.AccountID, SDPUserID: u.ID, LookupHash: a.sealer.Lookup(code),
			Encrypted: a.sealer.Seal(u.AccountID, code), GeneratedBy: models.GeneratedByAdmin, CreatedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
	}
	if err := s.CreateCodes(ctx, cs); err != nil {
		b.Fatal(err)
	}
	// Codes are redeemed long after they were generated: by then autovacuum has analyzed the
	// tables (and, on PostgreSQL, cleared the old row versions of the users just made).
	for _, q := range byDialect(s, []string{"VACUUM ANALYZE sdp_users, registration_codes", "ANALYZE"}, []string{"ANALYZE"}) {
		if _, err := s.SQLDB().Exec(q); err != nil {
			b.Fatal(err)
		}
	}
	// Users redeem their codes in no particular order: not, 16 at a time, the users of one page of
	// the table after another.
	mrand.Shuffle(len(out), func(i, j int) { out[i], out[j] = out[j], out[i] })
	return out
}

// rawRedemption runs the baselines: the SQL of a redemption written by hand, through
// database/sql on the store's pool.
type rawRedemption struct {
	db     *sql.DB
	sealer *codes.Sealer
	sqlite bool
	// batches takes the redemptions of baseline cb (batcher).
	batches chan<- rawBatched
}

// The events' details are the same for every redemption of the baselines.
const (
	rawUsedDetails       = `{"device":"bench laptop"}`
	rawRegisteredDetails = `{"device":"bench laptop","platform":"linux","via":"registration code"}`
)

// rawRedeemC is baseline c: lock the user, use the code with a device id from the sequence,
// insert the device, count, insert both events, and return what the client is answered.
const rawRedeemC = `WITH u AS (
	SELECT s.id, s.account_id, s.email, s.first_name, s.last_name FROM sdp_users s
	JOIN registration_codes r ON r.account_id = s.account_id AND r.sdp_user_id = s.id
	WHERE r.lookup_hash = $1 AND r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > $2
		AND s.status = 'enabled' AND NOT s.mfa_configured
	FOR UPDATE OF s
), c AS (
	UPDATE registration_codes r SET used_at = $2, encrypted = '', used_ip = '127.0.0.1', device_id = nextval('devices_id_seq')
	FROM u WHERE r.lookup_hash = $1 AND r.sdp_user_id = u.id AND r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > $2
	RETURNING r.device_id, r.account_id, r.sdp_user_id
), d AS (
	INSERT INTO devices (id, account_id, sdp_user_id, name, platform, registered_via, token_hash, registered_at, last_seen_at)
	SELECT device_id, account_id, sdp_user_id, 'bench laptop', 'linux', 'code', $3, $2, $2 FROM c
), n AS (
	UPDATE sdp_users s SET devices = s.devices + 1 FROM c WHERE s.id = c.sdp_user_id
), e AS (
	INSERT INTO events (account_id, occurred_at, type, sub_type, actor_type, actor_label, email, source_ip, details, sdp_user_id, device_id)
	SELECT u.account_id, $2, t.type, t.sub_type, 'client', u.email, u.email, '127.0.0.1', t.details, u.id, c.device_id
	FROM c JOIN u ON u.id = c.sdp_user_id,
		(VALUES ('Registration Code', 'Used', $4), ('Device', 'Registered', $5)) AS t(type, sub_type, details)
)
SELECT c.device_id, a.name, u.email, u.first_name, u.last_name FROM c JOIN u ON u.id = c.sdp_user_id JOIN accounts a ON a.id = u.account_id`

// redeem runs baseline name for one code.
func (r rawRedemption) redeem(ctx context.Context, name, code string) error {
	n, _ := codes.Normalize(code)
	lookup, now, tokenHash := r.sealer.Lookup(n), time.Now().UTC(), secret.Hash(secret.Token())
	switch name {
	case "a":
		res, err := r.db.ExecContext(ctx, r.q(`UPDATE registration_codes SET used_at = $2, encrypted = ''
			WHERE lookup_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2`), lookup, now)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k != 1 {
			return benchError("baseline a matched no code")
		}
		return nil
	case "cb":
		done := make(chan error, 1)
		r.batches <- rawBatched{lookup: lookup, token: tokenHash, done: done}
		return <-done
	case "c":
		var deviceID int64
		var account, email, first, last string
		return r.db.QueryRowContext(ctx, rawRedeemC, lookup, now, tokenHash, rawUsedDetails, rawRegisteredDetails).
			Scan(&deviceID, &account, &email, &first, &last)
	}
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback() }()
	if err := r.writeB(ctx, tx, lookup, now, tokenHash); err != nil {
		return err
	}
	return tx.Commit()
}

// rawRedeemCB is baseline cb: rawRedeemC for the codes of arrays, each with its device's token
// ($1 lookup hashes, $2 time, $3 token hashes), its users locked in the order of their ids; a
// row per code, its device id NULL when it was not won.
const rawRedeemCB = `WITH i AS (
	SELECT * FROM unnest($1::text[], $3::text[]) WITH ORDINALITY AS t(lookup, token, ord)
), u AS (
	SELECT s.id, s.account_id, s.email, s.first_name, s.last_name, i.lookup, i.token, i.ord FROM i
	JOIN registration_codes r ON r.lookup_hash = i.lookup
	JOIN sdp_users s ON r.account_id = s.account_id AND r.sdp_user_id = s.id
	WHERE r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > $2
		AND s.status = 'enabled' AND NOT s.mfa_configured
	ORDER BY s.id
	FOR UPDATE OF s
), c AS (
	UPDATE registration_codes r SET used_at = $2, encrypted = '', used_ip = '127.0.0.1', device_id = nextval('devices_id_seq')
	FROM u WHERE r.lookup_hash = u.lookup AND r.sdp_user_id = u.id AND r.used_at IS NULL AND r.revoked_at IS NULL AND r.expires_at > $2
	RETURNING r.device_id, r.account_id, r.sdp_user_id, u.token, u.ord, u.email
), d AS (
	INSERT INTO devices (id, account_id, sdp_user_id, name, platform, registered_via, token_hash, registered_at, last_seen_at)
	SELECT device_id, account_id, sdp_user_id, 'bench laptop', 'linux', 'code', token, $2, $2 FROM c
), n AS (
	UPDATE sdp_users s SET devices = s.devices + k.n
	FROM (SELECT sdp_user_id, count(*) AS n FROM c GROUP BY 1) k WHERE s.id = k.sdp_user_id
), e AS (
	INSERT INTO events (account_id, occurred_at, type, sub_type, actor_type, actor_label, email, source_ip, details, sdp_user_id, device_id)
	SELECT c.account_id, $2, t.type, t.sub_type, 'client', c.email, c.email, '127.0.0.1', t.details, c.sdp_user_id, c.device_id
	FROM c, (VALUES ('Registration Code', 'Used', $4), ('Device', 'Registered', $5)) AS t(type, sub_type, details)
)
SELECT c.device_id, a.name FROM i LEFT JOIN c ON c.ord = i.ord LEFT JOIN accounts a ON a.id = c.account_id ORDER BY i.ord`

// rawBatched is a redemption of baseline cb, waiting for its batch.
type rawBatched struct {
	lookup, token string
	done          chan<- error
}

// batcher starts baseline cb's two writers, which run until ctx ends: each takes the next
// redemption and every other one waiting (up to 32) into one rawRedeemCB.
func (r rawRedemption) batcher(ctx context.Context) chan<- rawBatched {
	in := make(chan rawBatched, benchClients)
	for range 2 {
		go func() {
			for {
				var batch []rawBatched
				select {
				case <-ctx.Done():
					return
				case first := <-in:
					batch = append(batch, first)
				}
			more:
				for len(batch) < 32 {
					select {
					case next := <-in:
						batch = append(batch, next)
					default:
						break more
					}
				}
				errs := r.writeCB(ctx, batch)
				for i, b := range batch {
					b.done <- errs[i]
				}
			}
		}()
	}
	return in
}

// writeCB runs rawRedeemCB for a batch and says how each redemption went.
func (r rawRedemption) writeCB(ctx context.Context, batch []rawBatched) []error {
	lookups, tokens, errs := make([]string, len(batch)), make([]string, len(batch)), make([]error, len(batch))
	for i, b := range batch {
		lookups[i], tokens[i] = b.lookup, b.token
	}
	rows, err := r.db.QueryContext(ctx, rawRedeemCB, lookups, time.Now().UTC(), tokens, rawUsedDetails, rawRegisteredDetails)
	if err == nil {
		defer rows.Close()
		for i := 0; err == nil && rows.Next(); i++ {
			var device sql.NullInt64
			var account sql.NullString
			if err = rows.Scan(&device, &account); err == nil && !device.Valid {
				errs[i] = benchError("baseline cb lost its code")
			}
		}
		if err == nil {
			err = rows.Err()
		}
	}
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
	}
	return errs
}

// writeB is baseline b inside tx: read the code, lock and count on its user, insert the device,
// use the code, insert both events, read the account's name.
func (r rawRedemption) writeB(ctx context.Context, tx *sql.Tx, lookup string, now time.Time, tokenHash string) error {
	var codeID, accountID, userID, deviceID int64
	if err := tx.QueryRowContext(ctx, r.q(`SELECT id, account_id, sdp_user_id FROM registration_codes
		WHERE lookup_hash = $1 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $2`), lookup, now).
		Scan(&codeID, &accountID, &userID); err != nil {
		return err
	}
	var email, first, last, account string
	if err := tx.QueryRowContext(ctx, r.q(`UPDATE sdp_users SET devices = devices + 1
		WHERE account_id = $1 AND id = $2 AND status = 'enabled' AND NOT mfa_configured
		RETURNING email, first_name, last_name`), accountID, userID).Scan(&email, &first, &last); err != nil {
		return err
	}
	if err := tx.QueryRowContext(ctx, r.q(`INSERT INTO devices
		(account_id, sdp_user_id, name, platform, registered_via, token_hash, registered_at, last_seen_at)
		VALUES ($1, $2, 'bench laptop', 'linux', 'code', $3, $4, $4) RETURNING id`), accountID, userID, tokenHash, now).
		Scan(&deviceID); err != nil {
		return err
	}
	res, err := tx.ExecContext(ctx, r.q(`UPDATE registration_codes SET used_at = $1, encrypted = '', used_ip = '127.0.0.1', device_id = $2
		WHERE id = $3 AND used_at IS NULL AND revoked_at IS NULL AND expires_at > $1`), now, deviceID, codeID)
	if err != nil {
		return err
	}
	if k, _ := res.RowsAffected(); k != 1 {
		return benchError("baseline b lost its code")
	}
	if _, err := tx.ExecContext(ctx, r.q(`INSERT INTO events
		(account_id, occurred_at, type, sub_type, actor_type, actor_label, email, source_ip, details, sdp_user_id, device_id)
		VALUES ($1, $2, 'Registration Code', 'Used', 'client', $3, $3, '127.0.0.1', $4, $5, $6),
			($1, $2, 'Device', 'Registered', 'client', $3, $3, '127.0.0.1', $7, $5, $6)`),
		accountID, now, email, rawUsedDetails, userID, deviceID, rawRegisteredDetails); err != nil {
		return err
	}
	return tx.QueryRowContext(ctx, r.q(`SELECT name FROM accounts WHERE id = $1`), accountID).Scan(&account)
}

// q is a statement for the database: SQLite numbers its parameters ?1, ?2 where PostgreSQL
// writes $1, $2.
func (r rawRedemption) q(stmt string) string {
	if r.sqlite {
		return strings.ReplaceAll(stmt, "$", "?")
	}
	return stmt
}
