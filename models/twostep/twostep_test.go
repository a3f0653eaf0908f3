package twostep_test

import (
	"crypto/aes"
	"crypto/cipher"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"onramp/models"
	"onramp/models/ratelimit"
	"onramp/models/secret"
	"onramp/models/twostep"
)

var t0 = time.Date(2026, 5, 4, 9, 30, 5, 0, time.UTC)

func sealer() *twostep.Sealer {
	return twostep.NewSealer(secret.NewKeys([]byte("twostep-test-secret")).Derive("totp"))
}

// Keys the portal stored before this package existed must still open: the format is
// base64url(nonce || AES-256-GCM ciphertext) under the caller's associated data.
func TestSealerOpensTheStoredFormat(t *testing.T) {
	t.Parallel()
	key := secret.NewKeys([]byte("twostep-test-secret")).Derive("totp")
	block, _ := aes.NewCipher(key)
	aead, _ := cipher.NewGCM(block)
	nonce := []byte("0123456789ab")
	stored := base64.RawURLEncoding.EncodeToString(aead.Seal(append([]byte(nil), nonce...), nonce, []byte("JBSWY3DPEHPK3PXP"), []byte("totp-secret|42")))
	if got, err := sealer().Open(stored, "totp-secret|42"); err != nil || got != "JBSWY3DPEHPK3PXP" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	if _, err := sealer().Open(stored, "admin-totp-secret|42"); err == nil {
		t.Fatal("opened under another purpose's associated data")
	}
}

func TestPendingEnrollmentIsBoundAndExpires(t *testing.T) {
	t.Parallel()
	box := sealer()
	e, err := twostep.Begin(box, "Onramp (acme)", "ada@example.com", "enroll|1|s1", t0)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(e.QRCode, "data:image/png;base64,") || len(e.Secret) < 16 || strings.Contains(e.Pending, e.Secret) {
		t.Fatalf("enrollment %+v", e)
	}
	if key, err := twostep.OpenPending(box, e.Pending, "enroll|1|s1", t0.Add(twostep.EnrollTTL)); err != nil || key != e.Secret {
		t.Fatalf("OpenPending at the deadline = %q, %v", key, err)
	}
	for _, c := range []struct {
		name, pending, aad string
		box                *twostep.Sealer
		at                 time.Time
	}{
		{"other session", e.Pending, "enroll|1|s2", box, t0},
		{"expired", e.Pending, "enroll|1|s1", box, t0.Add(twostep.EnrollTTL + time.Second)},
		{"forged", "forged", "enroll|1|s1", box, t0},
		{"another master secret", e.Pending, "enroll|1|s1", sealerOf("other"), t0},
	} {
		if key, err := twostep.OpenPending(c.box, c.pending, c.aad, c.at); err == nil {
			t.Errorf("%s: opened (%q)", c.name, key)
		}
	}
	again, err := twostep.Resume(box, e.Pending, "enroll|1|s1", t0.Add(time.Minute))
	if err != nil || again.Secret != e.Secret || again.Pending != e.Pending {
		t.Fatalf("Resume = %+v, %v", again, err)
	}
}

func sealerOf(master string) *twostep.Sealer {
	return twostep.NewSealer(secret.NewKeys([]byte(master)).Derive("totp"))
}

// steps records accepted time steps the way the store does: only a later step is accepted.
type steps struct{ last int64 }

func (s *steps) record(step int64) error {
	if step <= s.last {
		return models.ErrNotFound
	}
	s.last = step
	return nil
}

func TestVerifyAcceptsACodeOnce(t *testing.T) {
	t.Parallel()
	const key = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	code, _ := totp.GenerateCode(key, t0)
	rec := &steps{}
	if step, err := twostep.Verify(key, code, t0, rec.record); err != nil || step != t0.Unix()/30 {
		t.Fatalf("first use: step %d, %v", step, err)
	}
	if step, err := twostep.Verify(key, code, t0.Add(10*time.Second), rec.record); err != nil || step != 0 {
		t.Fatalf("replay: step %d, %v", step, err)
	}
	// One step of drift either way, not two.
	later := t0.Add(5 * time.Minute)
	for _, c := range []struct {
		at   time.Time
		want bool
	}{{later.Add(-30 * time.Second), true}, {later.Add(time.Minute), false}, {later.Add(30 * time.Second), true}} {
		code, _ := totp.GenerateCode(key, c.at)
		step, err := twostep.Verify(key, code, later, rec.record)
		if err != nil || (step != 0) != c.want {
			t.Fatalf("code of %s at %s: step %d, %v", c.at.Format(time.TimeOnly), later.Format(time.TimeOnly), step, err)
		}
	}
	boom := errors.New("database down")
	code, _ = totp.GenerateCode(key, t0.Add(time.Hour))
	if _, err := twostep.Verify(key, code, t0.Add(time.Hour), func(int64) error { return boom }); !errors.Is(err, boom) {
		t.Fatalf("store error = %v", err)
	}
}

func TestProve(t *testing.T) {
	t.Parallel()
	code := func(step int64, err error) func(string) (int64, error) {
		return func(string) (int64, error) { return step, err }
	}
	password := func(ok bool) func(string) (bool, error) { return func(string) (bool, error) { return ok, nil } }
	boom := errors.New("database down")
	tests := []struct {
		name, code, pw string
		checkCode      func(string) (int64, error)
		checkPassword  func(string) (bool, error)
		how, field     string
		spent          bool // a token of the budget
		err            error
	}{
		{"right code", "123456", "", code(7, nil), password(false), "authenticator code", "", false, nil},
		{"code wins over password", "123456", "pw", code(7, nil), password(false), "authenticator code", "", false, nil},
		{"wrong code", "123456", "", code(0, nil), password(true), "", "totp", true, nil},
		{"right password", " ", "pw", code(0, nil), password(true), "password", "", false, nil},
		{"wrong password", "", "pw", code(0, nil), password(false), "", "password", true, nil},
		{"nothing", "", "", code(7, nil), password(true), "", "totp", false, nil},
		{"store error", "123456", "", code(0, boom), password(true), "", "", false, boom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			budget := twostep.Budget{Limiter: ratelimit.New(1, time.Hour), Key: "7"}
			how, err := twostep.Prove(budget, tt.code, tt.pw, tt.checkCode, tt.checkPassword)
			var ve *models.ValidationError
			switch {
			case tt.err != nil:
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
			case tt.field != "":
				if !errors.As(err, &ve) || ve.Fields[tt.field] == "" {
					t.Fatalf("err = %v, want a message on %q", err, tt.field)
				}
			case err != nil:
				t.Fatal(err)
			}
			if how != tt.how {
				t.Fatalf("how %q, want %q", how, tt.how)
			}
			spent := budget.Take() != nil
			if spent != tt.spent {
				t.Fatalf("budget spent: %v, want %v", spent, tt.spent)
			}
			// With the budget spent, nothing is checked.
			var rl *models.RateLimitError
			if _, err := twostep.Prove(budget, "123456", "pw", code(7, nil), password(true)); !errors.As(err, &rl) {
				t.Fatalf("over budget: %v", err)
			}
		})
	}
}

// During a rotation a sealer seals under the current key and opens under either; Reseal
// rewrites only what the previous key sealed, and the current key alone then opens it.
func TestSealerRotation(t *testing.T) {
	t.Parallel()
	old, cur := secret.NewKeys([]byte("the-old-twostep-secret")), secret.NewKeys([]byte("the-new-twostep-secret"))
	both := twostep.NewSealer(cur.WithPrevious([]byte("the-old-twostep-secret")).DeriveAll("totp")...)
	newOnly := twostep.NewSealer(cur.Derive("totp"))
	stored := twostep.NewSealer(old.Derive("totp")).Seal("KEY", "aad")
	if got, err := both.Open(stored, "aad"); err != nil || got != "KEY" {
		t.Fatalf("the previous key's value: %q %v", got, err)
	}
	if _, err := newOnly.Open(stored, "aad"); err == nil {
		t.Fatal("the new key alone opened the previous key's value")
	}
	resealed, changed, err := both.Reseal(stored, "aad")
	if err != nil || !changed {
		t.Fatalf("Reseal: %v %v", changed, err)
	}
	if got, err := newOnly.Open(resealed, "aad"); err != nil || got != "KEY" {
		t.Fatalf("resealed value under the new key alone: %q %v", got, err)
	}
	if again, changed, err := both.Reseal(resealed, "aad"); err != nil || changed || again != resealed {
		t.Fatalf("a second Reseal changed it: %v %v", changed, err)
	}
	if _, _, err := both.Reseal(stored, "other aad"); err == nil {
		t.Fatal("resealed a value under the wrong associated data")
	}
}
