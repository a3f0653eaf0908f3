package models

import (
	"testing"
	"time"
)

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		time.Hour:        "1 hour",
		2 * time.Hour:    "2 hours",
		24 * time.Hour:   "1 day",
		36 * time.Hour:   "36 hours",
		48 * time.Hour:   "2 days",
		72 * time.Hour:   "3 days",
		168 * time.Hour:  "7 days",
		90 * time.Minute: "90 minutes",
		time.Minute:      "1 minute",
		30 * time.Second: "30 seconds",
		time.Second:      "1 second",
		0:                "0 seconds",
		25 * time.Hour:   "25 hours",
	} {
		if got := FormatDuration(d); got != want {
			t.Errorf("FormatDuration(%s) = %q, want %q", d, got, want)
		}
	}
}
