package codes

import "context"

// WorkForTest runs one attempt of a run's job, stopping after maxBatches batches when positive
// (as a crash half-way would).
func (s *Service) WorkForTest(ctx context.Context, runID int64, attempt, maxAttempts, maxBatches int) error {
	return s.work(ctx, runID, attempt, maxAttempts, maxBatches)
}
