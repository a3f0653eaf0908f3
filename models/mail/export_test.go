package mail

import "context"

// Deliver runs one delivery attempt directly, as the River worker does, for the tests of what
// a repeated job must not do.
func (o *Outbox) Deliver(ctx context.Context, id int64, attempt, maxAttempts int) error {
	return o.deliver(ctx, id, attempt, maxAttempts)
}
