package events

import (
	"errors"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/store"
)

func TestCriteriaTimeRanges(t *testing.T) {
	t.Parallel()
	now := time.Date(2025, 3, 10, 12, 30, 15, 0, time.UTC)
	at := func(s string) time.Time {
		t, err := time.Parse("2006-01-02 15:04:05", s)
		if err != nil {
			panic(err)
		}
		return t
	}
	tests := []struct {
		name     string
		in       Criteria
		rng      Range
		from, to time.Time
	}{
		{"default", Criteria{}, RangeWeek, now.Add(-7 * 24 * time.Hour), time.Time{}},
		{"last hour", Criteria{Range: "1h"}, RangeHour, now.Add(-time.Hour), time.Time{}},
		{"last day", Criteria{Range: "24h"}, RangeDay, now.Add(-24 * time.Hour), time.Time{}},
		{"last 30 days", Criteria{Range: " 30D "}, RangeMonth, now.Add(-30 * 24 * time.Hour), time.Time{}},
		{"all", Criteria{Range: "all"}, RangeAll, time.Time{}, time.Time{}},
		{"preset ignores dates", Criteria{Range: "1h", From: "2025-01-01"}, RangeHour, now.Add(-time.Hour), time.Time{}},
		{"dates alone are custom", Criteria{From: "2025-03-01T08:00"}, RangeCustom, at("2025-03-01 08:00:00"), time.Time{}},
		{"to names a whole minute", Criteria{Range: "custom", To: "2025-03-01T08:00"}, RangeCustom, time.Time{}, at("2025-03-01 08:01:00")},
		{"to names a whole second", Criteria{Range: "custom", From: "2025-03-01T08:00:05", To: "2025-03-01T08:00:09"}, RangeCustom,
			at("2025-03-01 08:00:05"), at("2025-03-01 08:00:10")},
		{"to names a whole day", Criteria{Range: "custom", From: "2025-03-01", To: "2025-03-01"}, RangeCustom, at("2025-03-01 00:00:00"), at("2025-03-02 00:00:00")},
		{"space instead of T", Criteria{Range: "custom", From: "2025-03-01 08:00"}, RangeCustom, at("2025-03-01 08:00:00"), time.Time{}},
		{"RFC 3339 with a zone is converted to UTC", Criteria{Range: "custom", From: "2025-03-01T10:00:00+02:00"}, RangeCustom, at("2025-03-01 08:00:00"), time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, f, w, err := tt.in.parse(now, nil)
			if err != nil {
				t.Fatal(err)
			}
			if Range(c.Range) != tt.rng || !f.From.Equal(tt.from) || !f.To.Equal(tt.to) || w.From != f.From || w.To != f.To {
				t.Fatalf("range %q from %v to %v; want %q %v %v", c.Range, f.From, f.To, tt.rng, tt.from, tt.to)
			}
		})
	}
}

func TestCriteriaMistakes(t *testing.T) {
	t.Parallel()
	now := time.Now().UTC()
	tests := []struct {
		in    Criteria
		field string
	}{
		{Criteria{From: "yesterday"}, "from"},
		{Criteria{Range: "custom", From: "2025-02-30T10:00"}, "from"},
		{Criteria{Range: "custom", To: "10:00"}, "to"},
		{Criteria{Range: "custom"}, "from"},
		{Criteria{Range: "custom", From: "2025-03-02", To: "2025-03-01"}, "to"},
		{Criteria{Range: "week"}, "range"},
		{Criteria{Type: "Teleport"}, "type"},
		{Criteria{User: "ada"}, "user"},
		{Criteria{User: "0"}, "user"},
		{Criteria{User: "123456789012345678901234567890"}, "user"},
		{Criteria{ActorType: "robot"}, "actor_type"},
		{Criteria{Q: "\xff"}, "q"},
		{Criteria{SubType: "a\x00b"}, "subtype"},
	}
	for _, tt := range tests {
		_, _, _, err := tt.in.parse(now, nil)
		var ve *models.ValidationError
		if !errors.As(err, &ve) || ve.Fields[tt.field] == "" {
			t.Errorf("%+v: %v, want an error on %s", tt.in, err, tt.field)
		}
	}
}

func TestCriteriaNormalise(t *testing.T) {
	t.Parallel()
	kinds := []store.EventKind{{Type: "Directory", SubType: "Sync"}, {Type: "Webhook", SubType: "Delivered"}}
	c, f, _, err := Criteria{Type: "registration code", SubType: "sync", User: " Ada@Example.COM ", ActorType: "Helpdesk",
		Actor: "Hal@Example.com", Q: " NORA "}.parse(time.Now(), kinds)
	if err != nil {
		t.Fatal(err)
	}
	if f.Type != models.EventCode || f.SubType != "Sync" || f.UserEmail != "ada@example.com" || f.UserID != 0 || f.ActorType != models.ActorHelpdesk ||
		f.Actor != "hal@example.com" || f.EmailPrefix != "nora" || c.User != "ada@example.com" {
		t.Fatalf("%+v %+v", c, f)
	}
	// A type only the account's events have is accepted too.
	if _, f, _, err := (Criteria{Type: "webhook", User: "42", Actor: "command line"}).parse(time.Now(), kinds); err != nil || f.Type != "Webhook" || f.UserID != 42 || f.Actor != "command line" {
		t.Fatalf("%+v %v", f, err)
	}
	if got := menuTypes(kinds); len(got) != len(Types)+1 || got[len(got)-1] != "Webhook" {
		t.Fatalf("menu types %v", got)
	}
	if got := menuSubTypes(kinds, "Nope"); len(got) != 3 {
		t.Fatalf("menu sub-types %v", got)
	}
}

func TestDetails(t *testing.T) {
	t.Parallel()
	fields, raw := ParseDetails(`{"from_method":"a","to":"b","n":3,"list":["x"]}`)
	if raw != "" || len(fields) != 4 || fields[0] != (Field{"from method", "a"}) || fields[1] != (Field{"list", `["x"]`}) || fields[2] != (Field{"n", "3"}) {
		t.Fatalf("%v %q", fields, raw)
	}
	if _, raw := ParseDetails("not json"); raw != "not json" {
		t.Fatal(raw)
	}
	if s := DetailsText(`{"reason":"wrong password","account":"acme"}`); s != "account: acme; reason: wrong password" {
		t.Fatal(s)
	}
}
