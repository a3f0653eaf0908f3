package store

import "context"

// Tally is a count of rows by kind and state, for the gauges of /metrics (models/metrics).
// These queries span every account on purpose: they describe the deployment to its operator.
type Tally struct {
	Kind  string
	State string
	N     int64
}

func (s *Store) tally(ctx context.Context, query string) ([]Tally, error) {
	var out []Tally
	return out, wrap(s.q(ctx).Raw(query).Scan(&out).Error)
}

// QueuedJobs counts River's jobs that are not finished, by kind and state. River's fetch
// index starts with the state, so this reads only the unfinished jobs.
func (s *Store) QueuedJobs(ctx context.Context) ([]Tally, error) {
	return s.tally(ctx, `SELECT kind, state, COUNT(*) AS n FROM river_job
		WHERE state IN ('available', 'scheduled', 'retryable', 'running') GROUP BY kind, state`)
}

// OpenRuns counts the runs queued or running, by kind and status (the partial index of open
// runs serves it).
func (s *Store) OpenRuns(ctx context.Context) ([]Tally, error) {
	return s.tally(ctx, `SELECT kind, status AS state, COUNT(*) AS n FROM runs
		WHERE status IN ('queued', 'running') GROUP BY kind, status`)
}

// UnsentMail counts the emails that are not sent, by kind and status: sent mail, the bulk of
// the table, is left out (the partial index mail_messages_unsent_idx holds the others).
func (s *Store) UnsentMail(ctx context.Context) ([]Tally, error) {
	return s.tally(ctx, `SELECT kind, status AS state, COUNT(*) AS n FROM mail_messages
		WHERE status <> 'sent' GROUP BY kind, status`)
}
