package models

import "time"

// RunStatus is where a "Generate for new users" run is.
type RunStatus string

const (
	RunQueued  RunStatus = "queued"  // waiting for the job queue to pick it up
	RunRunning RunStatus = "running" // batches are being committed (or retried after an error)
	RunDone    RunStatus = "done"
	RunFailed  RunStatus = "failed" // the last attempt failed: Error says why, Done how far it got
)

// CodeGenerationRun is one click of "Generate Registration Code For New Users". The work runs
// in the background a batch of users per transaction; this row is its progress and result.
// Only users up to MaxUserID (the newest when the run was started) are part of it.
type CodeGenerationRun struct {
	ID         int64
	AccountID  int64
	Status     RunStatus
	Total      int // enabled users that never had a code when the run started
	Done       int // codes generated so far
	MaxUserID  int64
	Error      string
	AdminID    *int64 // who started it (nil once that admin is deleted)
	ActorType  ActorType
	ActorLabel string
	SourceIP   string
	CreatedAt  time.Time
	StartedAt  *time.Time
	FinishedAt *time.Time
	UpdatedAt  time.Time
}

// Open reports whether the run is still to finish (queued or running).
func (r *CodeGenerationRun) Open() bool { return r.Status == RunQueued || r.Status == RunRunning }

// Percent is how far the run is, 0 to 100.
func (r *CodeGenerationRun) Percent() int {
	if r.Total <= 0 {
		if r.Status == RunDone {
			return 100
		}
		return 0
	}
	return min(100, r.Done*100/r.Total)
}

// Actor is who started the run, for the events of the codes it generates.
func (r *CodeGenerationRun) Actor() Actor {
	return Actor{Type: r.ActorType, ID: r.AdminID, Label: r.ActorLabel, IP: r.SourceIP}
}
