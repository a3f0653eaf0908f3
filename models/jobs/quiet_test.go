package jobs

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestQuietLogsEachErrorOncePerInterval: repeated warnings and errors are logged once per
// interval with how many were left out; other levels and other messages pass.
func TestQuietLogsEachErrorOncePerInterval(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	log := slog.New(newQuiet(slog.NewTextHandler(&out, nil), time.Hour)).With("component", "producer")
	for range 50 {
		log.Error("producer: Error fetching jobs", "queue", "mail")
		log.Warn("elector: Error attempting reelection")
		log.Info("producer: started")
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if got := strings.Count(out.String(), "Error fetching jobs"); got != 1 {
		t.Errorf("the error was logged %d times", got)
	}
	if got := strings.Count(out.String(), "Error attempting reelection"); got != 1 {
		t.Errorf("the warning was logged %d times", got)
	}
	if got := strings.Count(out.String(), "producer: started"); got != 50 {
		t.Errorf("INFO logged %d times of 50", got)
	}
	if len(lines) != 52 || !strings.Contains(lines[0], "component=producer") {
		t.Fatalf("%d lines:\n%s", len(lines), out.String())
	}

	// Past the interval the next one is logged, counting those left out.
	out.Reset()
	log = slog.New(newQuiet(slog.NewTextHandler(&out, nil), time.Nanosecond))
	log.Error("failing")
	time.Sleep(time.Millisecond)
	log.Error("failing")
	if got := strings.Count(out.String(), "failing"); got != 2 || strings.Contains(out.String(), "suppressed") {
		t.Fatalf("with a tiny interval:\n%s", out.String())
	}
}
