package stream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"onramp/models"
	"onramp/models/jobs"
	"onramp/models/store"
)

// Tuning of the delivery job.
const (
	// batchSize is how many deliveries one read takes.
	batchSize = 100
	// runBudget is how long a job delivers before it hands over to a fresh one (JobSnooze(0)),
	// so that no run nears the job's timeout.
	runBudget = time.Minute
	// maxAttempts is how many times a failing destination is tried before the job is discarded
	// (over a week with backoff); the sweep then starts a new one, so nothing is ever dropped.
	maxAttempts = 200
)

// backoff is the wait after each failed attempt (the last one repeats): docs/streaming.md.
var backoff = []time.Duration{10 * time.Second, 30 * time.Second, time.Minute, 2 * time.Minute, 5 * time.Minute,
	10 * time.Minute, 30 * time.Minute, time.Hour}

// Backoff is the wait after the attempt-th failed attempt (from 1).
func Backoff(attempt int) time.Duration {
	return backoff[min(max(attempt, 1), len(backoff))-1]
}

// deliverArgs is the delivery job of one destination.
type deliverArgs struct {
	DestinationID int64 `json:"destination_id"`
}

func (deliverArgs) Kind() string { return "stream.deliver" }

// deliverOpts: one job per destination queued, retrying or running at a time (delivery stays in
// order); a kick while it runs is dropped, and the run's last read or the sweep finds the rows.
var deliverOpts = river.InsertOpts{Queue: jobs.QueueStream, MaxAttempts: maxAttempts, UniqueOpts: river.UniqueOpts{ByArgs: true,
	ByState: []rivertype.JobState{rivertype.JobStateAvailable, rivertype.JobStatePending, rivertype.JobStateRetryable,
		rivertype.JobStateRunning, rivertype.JobStateScheduled}}}

type deliverWorker struct {
	river.WorkerDefaults[deliverArgs]
	s *Service
}

func (w *deliverWorker) Timeout(*river.Job[deliverArgs]) time.Duration {
	return runBudget + 2*sendTimeout
}

func (w *deliverWorker) NextRetry(job *river.Job[deliverArgs]) time.Time {
	if d := w.s.cfg.RetryDelay; d > 0 {
		return time.Now().Add(d)
	}
	return time.Now().Add(Backoff(job.Attempt))
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[deliverArgs]) error {
	return w.s.deliver(ctx, job.Args.DestinationID)
}

type sweepArgs struct{}

func (sweepArgs) Kind() string { return "stream.sweep" }

type sweepWorker struct {
	river.WorkerDefaults[sweepArgs]
	s *Service
}

func (w *sweepWorker) Work(ctx context.Context, _ *river.Job[sweepArgs]) error {
	_, err := w.s.enqueue(ctx)
	return err
}

func (s *Service) registerJobs() {
	jobs.AddWorker(s.jobs, &deliverWorker{s: s})
	jobs.AddWorker(s.jobs, &sweepWorker{s: s})
	s.jobs.Every("stream.sweep", s.cfg.SweepEvery, sweepArgs{}, &river.InsertOpts{Queue: jobs.QueueStream, MaxAttempts: 1}, true)
}

// Kick starts the delivery jobs of the destinations with deliveries to make, in the background:
// the store calls it after a transaction that wrote events commits. A kick looks at once; kicks
// within kickRecheck of its look make it look once more then, so that commits cost a query per
// kickRecheck at most however many there are (a thousand redemptions a second would otherwise
// keep a connection busy looking). A destination whose job is running may have read its last
// rows before this commit: the kick looks again a moment later until that job is done, so that
// the new rows never wait for the sweep.
func (s *Service) Kick() {
	s.again.Store(true)
	if s.kicking.CompareAndSwap(false, true) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.closed {
			return
		}
		s.kicks.Go(s.kickLoop)
	}
}

// closeKicks stops kicks from starting and waits for the running one: the store calls it when
// it closes.
func (s *Service) closeKicks() {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.kicks.Wait()
}

// kickRecheck is how soon a kick may look again: when commits came since its last look, or a
// destination's job runs.
const kickRecheck = 50 * time.Millisecond

func (s *Service) kickLoop() {
	for {
		for s.again.Swap(false) {
			ctx, cancel := context.WithTimeout(context.Background(), sendTimeout)
			busy, err := s.enqueue(ctx)
			cancel()
			if err != nil {
				s.log.Warn("event streaming: could not start deliveries; the sweep will", "error", err)
			} else if busy {
				s.again.Store(true)
			}
			// Kicks until then wait for the next look.
			time.Sleep(kickRecheck)
		}
		s.kicking.Store(false)
		// A Kick between the last look and the line above found the loop still running.
		if !s.again.Load() || !s.kicking.CompareAndSwap(false, true) {
			return
		}
	}
}

// enqueue inserts a delivery job for every enabled destination with deliveries to make (none
// for one that has its job already); busy says that one of those jobs is running.
func (s *Service) enqueue(ctx context.Context) (busy bool, err error) {
	ids, err := s.store.StreamDestinationsWithPending(ctx)
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		res, err := s.jobs.Insert(ctx, deliverArgs{DestinationID: id}, &deliverOpts)
		if err != nil {
			return false, err
		}
		busy = busy || (res.UniqueSkippedAsDuplicate && res.Job.State == rivertype.JobStateRunning)
	}
	return busy, nil
}

// deliver makes a destination's deliveries in order until none is left, the first failure (an
// error: River tries again after the backoff) or the run's budget.
func (s *Service) deliver(ctx context.Context, id int64) error {
	d, err := s.store.StreamDestinationForDelivery(ctx, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil // deleted, with its deliveries
	}
	if err != nil {
		return err
	}
	if !d.Enabled {
		return nil // turned off: its deliveries wait until it is on again
	}
	var secret string
	if d.Kind == models.StreamWebhook {
		if secret, err = s.box.Open(d.SecretSealed, secretAAD(d.AccountID)); err != nil {
			return river.JobCancel(fmt.Errorf("destination %d: the signing secret does not open (ONRAMP_SECRET changed?)", id))
		}
	}
	started := time.Now()
	for time.Since(started) < runBudget {
		rows, err := s.store.PendingDeliveries(ctx, id, batchSize)
		if err != nil || len(rows) == 0 {
			return err
		}
		done, attempts, sendErr := s.sendBatch(ctx, d, secret, rows)
		if err := s.store.DeleteDeliveries(ctx, done); err != nil {
			return err
		}
		if err := s.store.RecordStreamAttempts(ctx, id, attempts); err != nil {
			return err
		}
		if sendErr != nil {
			return sendErr
		}
	}
	return river.JobSnooze(0)
}

// sendBatch sends rows in order, stopping at the first failure; it returns the delivery ids
// sent, the attempts and the failure.
func (s *Service) sendBatch(ctx context.Context, d *models.StreamDestination, secret string, rows []store.PendingDelivery) ([]int64, []models.StreamAttempt, error) {
	var (
		done     []int64
		attempts []models.StreamAttempt
	)
	var conn *syslogConn
	if d.Kind == models.StreamSyslog {
		c, err := s.send.dialSyslog(ctx, d.URL)
		if err != nil {
			a := failed(0, err)
			a.EventID, a.AttemptedAt = rows[0].ID, s.now()
			return nil, []models.StreamAttempt{a}, fmt.Errorf("syslog %d: %s", d.ID, a.Excerpt)
		}
		defer c.close()
		conn = c
	}
	for _, r := range rows {
		body, err := json.Marshal(NewPayload(r.Account, &r.Event))
		if err != nil {
			return done, attempts, err
		}
		var a models.StreamAttempt
		if conn != nil {
			a = models.StreamAttempt{OK: true, Excerpt: "sent"}
			if err := conn.write(SyslogMessage(s.send.hostname, NewPayload(r.Account, &r.Event), body)); err != nil {
				a = failed(0, err)
			}
		} else {
			a = s.send.webhook(ctx, d.URL, secret, strconv.FormatInt(r.ID, 10), body, s.now())
		}
		a.EventID, a.AttemptedAt = r.ID, s.now()
		attempts = append(attempts, a)
		if !a.OK {
			return done, attempts, fmt.Errorf("destination %d: event %d: %d %s", d.ID, r.ID, a.Status, a.Excerpt)
		}
		done = append(done, r.DeliveryID)
	}
	if conn != nil {
		// TCP says nothing of what the collector kept: a batch counts as sent once flushed.
		if err := conn.flush(); err != nil {
			a := failed(0, err)
			a.EventID, a.AttemptedAt = rows[0].ID, s.now()
			return nil, append(attempts, a), fmt.Errorf("syslog %d: %s", d.ID, a.Excerpt)
		}
	}
	return done, attempts, nil
}

// SendTest sends a test event (id 0, "test": true) to a destination of the account now, records
// the attempt in its log and writes an event; the attempt says how it went.
func (s *Service) SendTest(ctx context.Context, accountID int64, account string, who models.Actor, id int64) (models.StreamAttempt, error) {
	d, err := s.store.StreamDestination(ctx, accountID, id)
	if err != nil {
		return models.StreamAttempt{}, err
	}
	now := s.now()
	e := models.NewEvent(&accountID, models.EventStream, models.SubStreamTest, who, "", map[string]string{"message": "A test event from Onramp."})
	e.OccurredAt = now
	p := NewPayload(account, e)
	p.Test = true
	body, err := json.Marshal(p)
	if err != nil {
		return models.StreamAttempt{}, err
	}
	var a models.StreamAttempt
	switch d.Kind {
	case models.StreamWebhook:
		secret, err := s.box.Open(d.SecretSealed, secretAAD(d.AccountID))
		if err != nil {
			return models.StreamAttempt{}, err
		}
		a = s.send.webhook(ctx, d.URL, secret, "test-"+strconv.FormatInt(now.UnixNano(), 10), body, now)
	default:
		a = s.sendSyslogTest(ctx, d.URL, p, body)
	}
	a.AttemptedAt = s.now()
	if err := s.store.RecordStreamAttempts(ctx, id, []models.StreamAttempt{a}); err != nil {
		return a, err
	}
	result := "failed"
	if a.OK {
		result = "delivered"
	}
	return a, s.store.CreateEvent(ctx, s.event(d, models.SubStreamTest, who, map[string]string{"result": result, "status": strconv.Itoa(a.Status)}))
}

func (s *Service) sendSyslogTest(ctx context.Context, rawURL string, p Payload, body []byte) models.StreamAttempt {
	c, err := s.send.dialSyslog(ctx, rawURL)
	if err != nil {
		return failed(0, err)
	}
	defer c.close()
	if err := c.write(SyslogMessage(s.send.hostname, p, body)); err != nil {
		return failed(0, err)
	}
	if err := c.flush(); err != nil {
		return failed(0, err)
	}
	return models.StreamAttempt{OK: true, Excerpt: "sent"}
}
