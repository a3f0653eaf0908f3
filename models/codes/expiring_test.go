package codes_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"onramp/models"
)

func TestExpiringAndExpiredEventsAreWrittenOnce(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	setExpiry := func(hours int) {
		f.account.CodeExpiryHours, f.account.CodeExpiryUnit = hours, "hours"
		if err := f.store.SaveProvisioning(ctx, f.account); err != nil {
			t.Fatal(err)
		}
	}
	us := f.seed(3, nil) // a: three days, unused; b: three days, used; c: two hours
	setExpiry(2)
	if _, err := f.svc.GenerateForUsers(ctx, f.boss, "", ids(us[2:])); err != nil {
		t.Fatal(err)
	}
	setExpiry(72)
	if _, err := f.svc.GenerateForUsers(ctx, f.boss, "", ids(us[:2])); err != nil {
		t.Fatal(err)
	}
	f.exec("UPDATE registration_codes SET used_at = $1, encrypted = '' WHERE sdp_user_id = $2", f.clock(), us[1].ID) // as redemption does

	f.advance(47 * time.Hour) // c expired long ago (it never lived a day: no warning); a has 25 hours left
	if n, err := f.svc.WarnExpiringCodes(ctx); err != nil || n != 0 {
		t.Fatalf("warned %d %v", n, err)
	}
	f.advance(time.Hour + time.Second) // a has less than a day left
	for range 2 {
		if n, err := f.svc.WarnExpiringCodes(ctx); err != nil || n > 1 {
			t.Fatalf("warned %d %v", n, err)
		}
	}
	if n := f.events(models.SubCodeExpiring); n != 1 {
		t.Fatalf("%d Expiring events, want 1", n)
	}
	if n := f.count(fmt.Sprintf("SELECT COUNT(*) FROM events WHERE sub_type = 'Expiring' AND email = '%s' AND sdp_user_id = %d AND actor_type = 'system'",
		us[0].Email, us[0].ID)); n != 1 {
		t.Fatal("the Expiring event does not name the code's user")
	}

	f.advance(24 * time.Hour) // a expired too
	for range 2 {
		if _, err := f.svc.ExpireCodes(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.events(models.SubCodeExpired); n != 2 {
		t.Fatalf("%d Expired events, want 2 (a and c; b was used)", n)
	}
	if n := f.count(fmt.Sprintf("SELECT COUNT(*) FROM events WHERE sub_type = 'Expired' AND sdp_user_id = %d", us[1].ID)); n != 0 {
		t.Fatal("a used code was reported expired")
	}
}
