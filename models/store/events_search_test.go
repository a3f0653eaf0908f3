package store_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// seedSearchEvents gives two accounts events spread over ten days, several at the very same
// instant (keyset pagination must still visit each once).
func seedSearchEvents(t *testing.T, s *store.Store, now time.Time) (acme, other int64, all []*models.Event) {
	t.Helper()
	ctx := context.Background()
	a, b := models.NewAccount("acme"), models.NewAccount("globex")
	for _, acc := range []*models.Account{a, b} {
		if err := s.CreateAccount(ctx, acc); err != nil {
			t.Fatal(err)
		}
	}
	kinds := []struct {
		t   models.EventType
		sub string
	}{{models.EventPortal, models.SubSignedIn}, {models.EventUser, models.SubUserCreated}, {models.EventUser, models.SubUserDisabled}, {models.EventAdmin, models.SubSignedIn}}
	for i := range 240 {
		k := kinds[i%len(kinds)]
		uid := int64(i%7 + 1)
		e := &models.Event{AccountID: &a.ID, OccurredAt: now.Add(-time.Duration(i/3) * time.Hour), Type: k.t, SubType: k.sub,
			ActorType: models.ActorAdmin, ActorLabel: fmt.Sprintf("boss%d@example.com", i%2), Email: fmt.Sprintf("user%d@example.com", uid), SDPUserID: &uid}
		if i%10 == 0 {
			e.ActorType, e.ActorLabel = models.ActorSystem, "command line"
		}
		if i%2 == 0 { // every column set, each to a value of its own
			actor, device := int64(100+i), int64(200+i)
			e.ActorID, e.DeviceID, e.SourceIP, e.Details = &actor, &device, fmt.Sprintf("192.0.2.%d", i%250), fmt.Sprintf(`{"n":"%d"}`, i)
		}
		all = append(all, e)
	}
	for i := range 30 {
		all = append(all, &models.Event{AccountID: &b.ID, OccurredAt: now.Add(-time.Duration(i) * time.Minute), Type: models.EventPortal,
			SubType: models.SubSignedIn, ActorType: models.ActorUser, Email: "user1@example.com"})
	}
	if err := s.CreateEvents(ctx, all); err != nil {
		t.Fatal(err)
	}
	return a.ID, b.ID, all
}

func TestSearchEventsWalksEveryRowOnceInOrder(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := context.Background()
	now := time.Now().UTC() // fractions of a second too: SQLite compares times as text
	acme, _, all := seedSearchEvents(t, s, now)
	for _, f := range []store.EventFilter{{}, {Type: models.EventUser}, {From: now.Add(-24 * time.Hour)}, {EmailPrefix: "user3"},
		{From: now.Add(-30 * time.Hour), To: now.Add(-2 * time.Hour)}} {
		var got []models.Event
		after := ""
		for pages := 0; ; pages++ {
			if pages > 100 {
				t.Fatal("no end")
			}
			p, err := s.SearchEvents(ctx, acme, f, after, 7)
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, p.Events...)
			if p.Next == "" {
				break
			}
			after = p.Next
		}
		var want []models.Event
		if err := s.EachEvent(ctx, acme, f, 1000, func(b []models.Event) error { want = append(want, b...); return nil }); err != nil {
			t.Fatal(err)
		}
		seen := map[int64]bool{}
		for i, e := range got {
			if seen[e.ID] {
				t.Fatalf("%+v: event %d twice", f, e.ID)
			}
			seen[e.ID] = true
			if *e.AccountID != acme {
				t.Fatalf("another account's event %d", e.ID)
			}
			if i > 0 {
				prev := got[i-1]
				if e.OccurredAt.After(prev.OccurredAt) || (e.OccurredAt.Equal(prev.OccurredAt) && e.ID > prev.ID) {
					t.Fatalf("%+v: out of order at %d", f, i)
				}
			}
		}
		if len(got) != len(want) || len(got) == 0 {
			t.Fatalf("%+v: paged %d rows, one batch %d", f, len(got), len(want))
		}
		expected := 0
		for _, e := range all {
			if *e.AccountID == acme && (f.From.IsZero() || !e.OccurredAt.Before(f.From)) && (f.To.IsZero() || e.OccurredAt.Before(f.To)) &&
				(f.Type == "" || e.Type == f.Type) && (f.EmailPrefix == "" || e.Email[:len(f.EmailPrefix)] == f.EmailPrefix) {
				expected++
			}
		}
		if len(got) != expected {
			t.Fatalf("%+v: %d rows, want %d", f, len(got), expected)
		}
		var n int64
		all, err := s.EventKinds(ctx, acme)
		if err != nil {
			t.Fatal(err)
		}
		kinds, exact, err := s.CountEventKinds(ctx, acme, f, 1000, all)
		if err != nil || !exact {
			t.Fatal(err, exact)
		}
		for _, k := range kinds {
			n += k.N
		}
		if n != int64(len(got)) {
			t.Fatalf("%+v: counts sum to %d, list has %d", f, n, len(got))
		}
	}
	// The search scans its rows by hand: each reads back as GORM reads the same event.
	p, err := s.SearchEvents(ctx, acme, store.EventFilter{}, "", 20)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range p.Events {
		one, err := s.Event(ctx, acme, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(e, *one) {
			t.Fatalf("searched %+v, read %+v", e, *one)
		}
	}
	// The account's kinds, in order, each once (two sub-types of one type, one type after another).
	kinds, err := s.EventKinds(ctx, acme)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, k := range kinds {
		names = append(names, string(k.Type)+"/"+k.SubType)
	}
	if want := "Admin/Signed In,Portal/Signed In,User/Created,User/Disabled"; strings.Join(names, ",") != want {
		t.Fatalf("kinds %v, want %s", names, want)
	}
}

func TestCountEventKindsCapsAndModes(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := context.Background()
	now := time.Now().UTC()
	acme, _, _ := seedSearchEvents(t, s, now)
	kinds, err := s.EventKinds(ctx, acme)
	if err != nil || len(kinds) != 4 {
		t.Fatalf("kinds %v %v", kinds, err)
	}
	// Time and kind only: one count per kind, each stopping at cap+1.
	got, exact, err := s.CountEventKinds(ctx, acme, store.EventFilter{}, 50, kinds)
	if err != nil || !exact || len(got) != 4 {
		t.Fatalf("%v %v %v", got, exact, err)
	}
	for _, k := range got {
		if k.N != 51 {
			t.Fatalf("%s %s counted %d, want the cap+1 (51)", k.Type, k.SubType, k.N)
		}
	}
	got, _, err = s.CountEventKinds(ctx, acme, store.EventFilter{Type: models.EventUser, SubType: models.SubUserDisabled}, 1000, kinds)
	if err != nil || len(got) != 1 || got[0].N != 60 {
		t.Fatalf("one kind: %v %v", got, err)
	}
	// Other conditions: the first cap+1 rows are grouped; past the cap the counts are lower bounds.
	got, exact, err = s.CountEventKinds(ctx, acme, store.EventFilter{ActorType: models.ActorAdmin}, 100, kinds)
	if err != nil || exact {
		t.Fatalf("sampled counts said exact: %v %v", got, err)
	}
	got, exact, err = s.CountEventKinds(ctx, acme, store.EventFilter{ActorType: models.ActorSystem}, 100, kinds)
	if err != nil || !exact || len(got) != 2 || got[0].N+got[1].N != 24 {
		t.Fatalf("system: %v %v %v", got, exact, err)
	}
}
