package models

import "time"

// RunKind is what a background run does.
type RunKind string

const (
	// RunGenerateCodes is a click of "Generate Registration Code For New Users".
	RunGenerateCodes RunKind = "generate_codes"
	// RunUserAction is a Users action confirmed over more users than one request should take.
	RunUserAction RunKind = "user_action"
)

// RunStatus is where a run is.
type RunStatus string

const (
	RunQueued  RunStatus = "queued"  // waiting for the job queue to pick it up
	RunRunning RunStatus = "running" // batches are being committed (or retried after an error)
	RunDone    RunStatus = "done"
	RunFailed  RunStatus = "failed" // the last attempt failed: Error says why, Done how far it got
)

// Run is bulk work that runs in the background a batch of users per transaction; this row is
// its progress and result. Only users up to MaxUserID (the newest when the run was started)
// are part of it.
type Run struct {
	ID          int64
	AccountID   int64
	Kind        RunKind
	Action      string // RunUserAction: the action (users.Action)
	Filter      string // RunUserAction: the Users list filter it applies to, as JSON
	Status      RunStatus
	Total       int // users the run was started for
	Done        int // users done so far
	Affected    int // RunUserAction: users the action changed (Done - Affected were skipped)
	MaxUserID   int64
	AfterUserID int64 // RunUserAction: the last user id done
	Error       string
	AdminID     *int64 // who started it (nil once that admin is deleted)
	ActorType   ActorType
	ActorLabel  string
	SourceIP    string
	CreatedAt   time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	UpdatedAt   time.Time
	// Worker is the attempt that holds the run, HeartbeatAt when it last said it is alive
	// (models/runs): a run whose heartbeat stopped for RunStalledAfter is stalled.
	Worker      string
	HeartbeatAt *time.Time
}

// RunStalledAfter is how long a running run's heartbeat may stop (its worker sends one every
// 15 seconds) before the run counts as stalled: its worker died, and the run waits for the
// queue's rescue, or for an admin to resume it.
const RunStalledAfter = time.Minute

// Stalled reports whether the run is running with no live worker.
func (r *Run) Stalled(now time.Time) bool {
	return r.Status == RunRunning && r.HeartbeatAt != nil && now.Sub(*r.HeartbeatAt) > RunStalledAfter
}

// Open reports whether the run is still to finish (queued or running).
func (r *Run) Open() bool { return r.Status == RunQueued || r.Status == RunRunning }

// Percent is how far the run is, 0 to 100.
func (r *Run) Percent() int {
	if r.Status == RunDone {
		return 100
	}
	if r.Total <= 0 {
		return 0
	}
	return min(100, r.Done*100/r.Total)
}

// Skipped counts the users a finished user action did not apply to.
func (r *Run) Skipped() int { return r.Done - r.Affected }

// Actor is who started the run, for the events of what it does.
func (r *Run) Actor() Actor {
	return Actor{Type: r.ActorType, ID: r.AdminID, Label: r.ActorLabel, IP: r.SourceIP}
}
