package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"onramp/migrations"
	"onramp/models"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// redeemFixture is an account whose users get codes to redeem together.
type redeemFixture struct {
	s       *store.Store
	account *models.Account
	now     time.Time
	made    int
}

func newRedeemFixture(t *testing.T) *redeemFixture {
	t.Helper()
	f := &redeemFixture{s: storetest.Open(t), account: models.NewAccount("together"), now: time.Now().UTC().Truncate(time.Microsecond)}
	if err := f.s.CreateAccount(t.Context(), f.account); err != nil {
		t.Fatal(err)
	}
	return f
}

// user makes a user in status st with n codes that expire in ttl, and returns the codes' lookup
// hashes.
func (f *redeemFixture) user(t *testing.T, st models.UserStatus, n int, ttl time.Duration) (*models.SDPUser, []string) {
	t.Helper()
	ctx := t.Context()
	f.made++
	u := &models.SDPUser{AccountID: f.account.ID, FirstName: "Ada", LastName: fmt.Sprint(f.made), Email: fmt.Sprintf("ada.%d@example.com", f.made),
		Origin: models.OriginManual, Status: st, Activation: models.ActivationNew, CreatedAt: f.now, UpdatedAt: f.now}
	if err := f.s.CreateUsers(ctx, []*models.SDPUser{u}); err != nil {
		t.Fatal(err)
	}
	var lookups []string
	for i := range n {
		lookup := fmt.Sprintf("lookup-%d-%d", u.ID, i)
		c := &models.RegistrationCode{AccountID: f.account.ID, SDPUserID: u.ID, LookupHash: lookup, Encrypted: "sealed",
			GeneratedBy: models.GeneratedByAdmin, CreatedAt: f.now, ExpiresAt: f.now.Add(ttl)}
		if err := f.s.CreateCodes(ctx, []*models.RegistrationCode{c}); err != nil {
			t.Fatal(err)
		}
		lookups = append(lookups, lookup)
	}
	return u, lookups
}

// redemption redeems lookup for a device with its own token, writing a Used and a Registered
// event.
func (f *redeemFixture) redemption(lookup string) store.Redemption {
	f.made++
	event := func(typ models.EventType, sub string) models.Event {
		return models.Event{Type: typ, SubType: sub, ActorType: models.ActorClient, Details: `{"device":"laptop"}`}
	}
	return store.Redemption{LookupHash: lookup, At: f.now, IP: "192.0.2.1",
		Device: models.Device{Name: "laptop", Platform: "linux", RegisteredVia: models.ViaCode, TokenHash: fmt.Sprintf("token-%d", f.made)},
		Events: []models.Event{event(models.EventCode, models.SubCodeUsed), event(models.EventDevice, models.SubDeviceRegistered)}}
}

func (f *redeemFixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.s.SQLDB().QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRedemptionsTogetherDecideEachAlone: redemptions written together each get the outcome
// they would get alone, in their order: two codes of one user both win (the user counts both),
// a disabled user's and an expired code write nothing, an unknown code is not found, one past
// its client's budget is refused (PostgreSQL: budgets are shared there only); every winner has
// its device and its two events.
func TestRedemptionsTogetherDecideEachAlone(t *testing.T) {
	t.Parallel()
	f := newRedeemFixture(t)
	ctx := t.Context()
	twice, both := f.user(t, models.UserEnabled, 2, time.Hour)
	disabled, off := f.user(t, models.UserDisabled, 1, time.Hour)
	_, expired := f.user(t, models.UserEnabled, 1, -time.Minute)
	_, limited := f.user(t, models.UserEnabled, 1, time.Hour)
	if _, err := f.s.SQLDB().Exec(`INSERT INTO rate_limits (limiter, bucket, full_at) VALUES ('test', 'client', 100)`); err != nil {
		t.Fatal(err)
	}
	past := f.redemption(limited[0])
	past.Budget = &store.RateCheck{Limiter: "test", Key: "client", Until: 50}
	rs := []store.Redemption{f.redemption(both[0]), f.redemption(off[0]), f.redemption(expired[0]), f.redemption("no such code"),
		f.redemption(both[1])}
	shared := f.s.Dialect() == migrations.Postgres
	if shared {
		rs = append(rs, past)
	}
	outs, err := store.RedeemTogetherForTest(f.s, ctx, rs)
	if err != nil {
		t.Fatal(err)
	}
	if len(outs) != len(rs) {
		t.Fatalf("%d outcomes for %d redemptions", len(outs), len(rs))
	}
	for _, i := range []int{0, 4} {
		o := outs[i]
		if o.Device == nil || o.Device.ID == 0 || o.Device.TokenHash != rs[i].Device.TokenHash || !o.UserReady ||
			o.Code == nil || o.Code.LookupHash != rs[i].LookupHash || o.User.Email != twice.Email || o.Account.Name != f.account.Name {
			t.Fatalf("redemption %d did not win as alone: %+v", i, o)
		}
	}
	if outs[0].Device.ID == outs[4].Device.ID {
		t.Fatal("two winners got one device")
	}
	for i, want := range map[int]string{1: "disabled user", 2: "expired code"} {
		if o := outs[i]; o.Code == nil || o.UserReady || o.Device != nil {
			t.Fatalf("the %s's redemption: %+v, want its code found and nothing written", want, o)
		}
	}
	if o := outs[3]; o.Code != nil || o.BudgetRefused {
		t.Fatalf("an unknown code: %+v", o)
	}
	if shared {
		if o := outs[5]; !o.BudgetRefused || o.Code != nil {
			t.Fatalf("past the budget: %+v", o)
		}
	}

	u, err := f.s.User(ctx, f.account.ID, twice.ID)
	if err != nil || u.Devices != 2 || u.ActiveCodes != 0 {
		t.Fatalf("the user of both codes: %d devices, %d active codes (%v), want 2 and 0", u.Devices, u.ActiveCodes, err)
	}
	for i, lookup := range both {
		if n := f.count(t, `SELECT COUNT(*) FROM registration_codes WHERE lookup_hash = $1 AND device_id = $2 AND used_at IS NOT NULL
			AND encrypted = ''`, lookup, []int64{outs[0].Device.ID, outs[4].Device.ID}[i]); n != 1 {
			t.Fatalf("code %d is not used by its device", i)
		}
	}
	if n := f.count(t, `SELECT COUNT(*) FROM registration_codes WHERE used_at IS NOT NULL`); n != 2 {
		t.Fatalf("%d codes used, want 2", n)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM devices`); n != 2 {
		t.Fatalf("%d devices, want 2", n)
	}
	if u, err := f.s.User(ctx, f.account.ID, disabled.ID); err != nil || u.Devices != 0 || u.ActiveCodes != 1 {
		t.Fatalf("the disabled user: %d devices, %d active codes (%v)", u.Devices, u.ActiveCodes, err)
	}
	for _, o := range []*store.Redeemed{outs[0], outs[4]} {
		if n := f.count(t, `SELECT COUNT(*) FROM events WHERE device_id = $1 AND sdp_user_id = $2 AND account_id = $3
			AND type IN ('Registration Code', 'Device') AND email = $4 AND source_ip = '192.0.2.1'`,
			o.Device.ID, twice.ID, f.account.ID, twice.Email); n != 2 {
			t.Fatalf("%d events of device %d, want 2", n, o.Device.ID)
		}
	}
	if n := f.count(t, `SELECT COUNT(*) FROM events`); n != 4 {
		t.Fatalf("%d events, want 4", n)
	}
}

// holdUsers locks every user of the fixture in a transaction until the returned function ends
// it (on SQLite, the database's write lock): redemptions of their codes wait for it.
func (f *redeemFixture) holdUsers(t *testing.T) func() {
	t.Helper()
	tx, err := f.s.SQLDB().BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	lock := `SELECT id FROM sdp_users FOR UPDATE`
	if f.s.Dialect() != migrations.Postgres {
		lock = `UPDATE sdp_users SET updated_at = updated_at`
	}
	if _, err := tx.Exec(lock); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	release := func() { once.Do(func() { _ = tx.Rollback() }) }
	t.Cleanup(release)
	return release
}

// users makes n enabled users with a code each and returns the codes' lookup hashes.
func (f *redeemFixture) users(t *testing.T, n int) []string {
	t.Helper()
	var lookups []string
	for range n {
		_, l := f.user(t, models.UserEnabled, 1, time.Hour)
		lookups = append(lookups, l...)
	}
	return lookups
}

// outcome is what Redeem returned.
type outcome struct {
	out *store.Redeemed
	err error
}

// redeemAsync runs Redeem for r with ctx on a goroutine of its own, and sends its outcome.
func (f *redeemFixture) redeemAsync(ctx context.Context, r store.Redemption, results chan<- outcome) {
	go func() {
		out, err := f.s.Redeem(ctx, r)
		results <- outcome{out, err}
	}()
}

// occupy starts a redemption of each of the first lookups, one for each runner, each once the
// one before was taken, and returns how many: each is a batch of its own, which waits for the
// users (holdUsers), so that every runner is busy and the redemptions that come next wait in
// the queue.
func (f *redeemFixture) occupy(t *testing.T, lookups []string, results chan<- outcome) int {
	t.Helper()
	_, _, runners := store.RedemptionQueueForTest(f.s)
	for i, lookup := range lookups[:runners] {
		f.redeemAsync(context.Background(), f.redemption(lookup), results)
		waitFor(t, "a batch taken", func() bool { _, batches, _ := store.RedemptionQueueForTest(f.s); return batches == int64(i+1) })
	}
	return runners
}

// waitQueued returns once n redemptions wait in the queue.
func (f *redeemFixture) waitQueued(t *testing.T, n int) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%d waiting redemptions", n), func() bool { q, _, _ := store.RedemptionQueueForTest(f.s); return q == n })
}

// waitFor polls until ok, failing the test after 30 seconds.
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !ok(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("still waiting for %s after 30 s", what)
		}
	}
}

// TestConcurrentRedemptionsShareStatements: redemptions that arrive while others are being
// written wait and then go together, far fewer statements than redemptions, and still each code
// is won once: 20 codes redeemed twice each at once make 20 devices, every user counting one,
// every loser told so, 2 events per winner.
func TestConcurrentRedemptionsShareStatements(t *testing.T) {
	t.Parallel()
	f := newRedeemFixture(t)
	lookups := f.users(t, 20)
	release := f.holdUsers(t)
	results := make(chan outcome, 2*len(lookups))
	busy := f.occupy(t, lookups, results)
	for _, lookup := range append(lookups[busy:], lookups...) {
		f.redeemAsync(context.Background(), f.redemption(lookup), results)
	}
	f.waitQueued(t, 2*len(lookups)-busy)
	release()
	won := 0
	for range 2 * len(lookups) {
		o := <-results
		switch {
		case o.err != nil:
			t.Fatal(o.err)
		case o.out.Device != nil:
			won++
		case o.out.Code == nil:
			t.Fatalf("a redemption did not find its code: %+v", o.out)
		}
	}
	if won != len(lookups) {
		t.Fatalf("%d redemptions won, want %d", won, len(lookups))
	}
	if _, batches, _ := store.RedemptionQueueForTest(f.s); batches > 6 {
		t.Fatalf("%d statements for 40 redemptions: they were not written together", batches)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM devices`); n != len(lookups) {
		t.Fatalf("%d devices, want %d", n, len(lookups))
	}
	if n := f.count(t, `SELECT COUNT(*) FROM registration_codes WHERE used_at IS NOT NULL AND device_id IS NOT NULL`); n != len(lookups) {
		t.Fatalf("%d codes used, want %d", n, len(lookups))
	}
	if n := f.count(t, `SELECT COUNT(*) FROM sdp_users u WHERE devices = 1 AND NOT EXISTS
		(SELECT 1 FROM registration_codes c WHERE c.sdp_user_id = u.id AND c.encrypted <> '')`); n != len(lookups) {
		t.Fatalf("%d users count their device, want %d", n, len(lookups))
	}
	if n := f.count(t, `SELECT COUNT(*) FROM events`); n != 2*len(lookups) {
		t.Fatalf("%d events, want %d", n, 2*len(lookups))
	}
}

// TestQueuedRedemptionGivesUpWithItsRequest: a redemption whose request ends while it waits for
// a batch returns the request's error and writes nothing; the others go on.
func TestQueuedRedemptionGivesUpWithItsRequest(t *testing.T) {
	t.Parallel()
	f := newRedeemFixture(t)
	lookups := f.users(t, 3)
	release := f.holdUsers(t)
	results := make(chan outcome, 3)
	busy := f.occupy(t, lookups, results)
	ctx, cancel := context.WithCancel(context.Background())
	f.redeemAsync(ctx, f.redemption(lookups[2]), results)
	f.waitQueued(t, 1)
	cancel()
	if o := <-results; !errors.Is(o.err, context.Canceled) {
		t.Fatalf("the cancelled redemption: %+v, want context.Canceled", o)
	}
	f.waitQueued(t, 0)
	release()
	for range busy {
		if o := <-results; o.err != nil || o.out.Device == nil {
			t.Fatalf("a redemption beside it: %+v", o)
		}
	}
	if n := f.count(t, `SELECT COUNT(*) FROM registration_codes WHERE lookup_hash = $1 AND used_at IS NULL AND encrypted <> ''`, lookups[2]); n != 1 {
		t.Fatal("the cancelled redemption used its code")
	}
	if n := f.count(t, `SELECT COUNT(*) FROM devices`); n != busy {
		t.Fatalf("%d devices, want %d", n, busy)
	}
}

// TestFailedBatchWritesEachAlone: when a batch's statement fails, each of its redemptions is
// written again alone, so that one's failure is not the others': of two redemptions that would
// register one device token twice, one wins and the other fails; a third, waiting with them,
// wins.
func TestFailedBatchWritesEachAlone(t *testing.T) {
	t.Parallel()
	f := newRedeemFixture(t)
	lookups := f.users(t, 5)
	release := f.holdUsers(t)
	results := make(chan outcome, 5)
	busy := f.occupy(t, lookups, results)
	clash, twin := f.redemption(lookups[2]), f.redemption(lookups[3])
	twin.Device.TokenHash = clash.Device.TokenHash
	for _, r := range []store.Redemption{clash, twin, f.redemption(lookups[4])} {
		f.redeemAsync(context.Background(), r, results)
	}
	f.waitQueued(t, 3)
	release()
	failed := 0
	for range busy + 3 {
		if o := <-results; o.err != nil {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("%d redemptions failed, want 1", failed)
	}
	if n := f.count(t, `SELECT COUNT(*) FROM devices`); n != busy+2 {
		t.Fatalf("%d devices, want %d", n, busy+2)
	}
	if _, batches, _ := store.RedemptionQueueForTest(f.s); batches != int64(busy+1) {
		t.Fatalf("%d batches, want %d (the 3 waiting redemptions in one)", batches, busy+1)
	}
}
