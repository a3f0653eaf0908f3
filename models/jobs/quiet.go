package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// quiet keeps River's warnings and errors from flooding the log while the database is down:
// each of its components (every queue's producer, the elector, the maintenance services)
// logs a failure on every poll, dozens of lines a second. A message is logged the first time,
// then at most once per interval, with the number of times it was left out meanwhile
// (suppressed). INFO and DEBUG pass as they are.
type quiet struct {
	next  slog.Handler
	state *quietState
}

type quietState struct {
	interval time.Duration
	mu       sync.Mutex
	messages map[string]*quietMessage
}

type quietMessage struct {
	sometimes  rate.Sometimes
	suppressed int
}

// maxQuietMessages bounds the memory of messages seen: River's are a fixed set, but a message
// built from data would otherwise grow the map forever.
const maxQuietMessages = 1000

func newQuiet(next slog.Handler, interval time.Duration) *quiet {
	return &quiet{next: next, state: &quietState{interval: interval, messages: map[string]*quietMessage{}}}
}

func (q *quiet) Enabled(ctx context.Context, l slog.Level) bool { return q.next.Enabled(ctx, l) }

func (q *quiet) Handle(ctx context.Context, r slog.Record) error {
	if r.Level < slog.LevelWarn {
		return q.next.Handle(ctx, r)
	}
	if suppressed, log := q.state.admit(r.Message); !log {
		return nil
	} else if suppressed > 0 {
		r = r.Clone()
		r.AddAttrs(slog.Int("suppressed", suppressed))
	}
	return q.next.Handle(ctx, r)
}

// admit says whether a record with this message is logged now, and how many were left out
// since the last one.
func (s *quietState) admit(msg string) (suppressed int, log bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.messages[msg]
	if m == nil {
		if len(s.messages) >= maxQuietMessages {
			clear(s.messages)
		}
		m = &quietMessage{sometimes: rate.Sometimes{Interval: s.interval}}
		s.messages[msg] = m
	}
	m.sometimes.Do(func() { log = true })
	if !log {
		m.suppressed++
		return 0, false
	}
	suppressed, m.suppressed = m.suppressed, 0
	return suppressed, true
}

func (q *quiet) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &quiet{next: q.next.WithAttrs(attrs), state: q.state}
}

func (q *quiet) WithGroup(name string) slog.Handler {
	return &quiet{next: q.next.WithGroup(name), state: q.state}
}
