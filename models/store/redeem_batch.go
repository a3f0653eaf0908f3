package store

import (
	"context"
	"slices"
	"sync"
	"time"
)

// redeemBatcher writes concurrent redemptions together: a redemption that arrives while runners
// are all writing waits in a queue, and the next runner free takes up to redeemBatch of the
// waiting ones into one write (redeemTogether): on PostgreSQL one statement, one transaction and
// one commit for all of them; on SQLite one write transaction, its lock taken once. Alone, a
// redemption goes at once, in a write of its own; under load, the server and the database do the
// fixed work of a statement and a commit once per batch rather than once per code. Each
// redemption is still decided on its own rows, with the same locks and guarantees as alone
// (Redeem).
//
// Runners are goroutines started when a redemption finds fewer than runners at work; each takes
// batches until the queue is empty, then ends: an idle server runs none.
type redeemBatcher struct {
	store *Store
	// runners is how many batches are written at once: on PostgreSQL two keep the database busy
	// while the next batch gathers, without taking more of the pool than that.
	runners int
	mu      sync.Mutex
	queue   []*pendingRedemption
	// running counts the runners at work; batches counts the batches they took.
	running int
	batches int64
}

// pendingRedemption is a redemption waiting in the queue or being written.
type pendingRedemption struct {
	r Redemption
	// taken is set (under the batcher's lock) when a runner takes it; done is closed when out or
	// err is set.
	taken bool
	done  chan struct{}
	out   *Redeemed
	err   error
}

const (
	// redeemBatch caps a batch: enough for every client of a burst, few enough that one
	// write stays short.
	redeemBatch = 32
	// redeemTimeout bounds a batch's write, which no one request's context may cancel.
	redeemTimeout = 30 * time.Second
)

// redeem queues r and waits for its outcome. If ctx ends before a runner took it, r is dropped
// unwritten and ctx's error returned; once taken, its outcome is awaited (the write is
// short), so that a redemption that won is never answered as failed.
func (b *redeemBatcher) redeem(ctx context.Context, r Redemption) (*Redeemed, error) {
	p := &pendingRedemption{r: r, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, p)
	start := b.running < b.runners
	if start {
		b.running++
	}
	b.mu.Unlock()
	if start {
		go b.run()
	}
	select {
	case <-p.done:
		return p.out, p.err
	case <-ctx.Done():
	}
	b.mu.Lock()
	if !p.taken {
		b.queue = slices.DeleteFunc(b.queue, func(q *pendingRedemption) bool { return q == p })
		b.mu.Unlock()
		return nil, ctx.Err()
	}
	b.mu.Unlock()
	<-p.done
	return p.out, p.err
}

// run writes batches until the queue is empty.
func (b *redeemBatcher) run() {
	for {
		b.mu.Lock()
		batch := b.take()
		if len(batch) == 0 {
			b.running--
			b.mu.Unlock()
			return
		}
		b.batches++
		b.mu.Unlock()
		b.write(batch)
	}
}

// take removes the next batch from the queue, in the order the redemptions came: at most
// redeemBatch of them, and no two of one code (a second redemption of a code waits for the next
// batch, where it finds the code used or still active). b.mu is held.
func (b *redeemBatcher) take() []*pendingRedemption {
	var batch []*pendingRedemption
	codes := map[string]bool{}
	rest := b.queue[:0]
	for _, p := range b.queue {
		if len(batch) == redeemBatch || codes[p.r.LookupHash] {
			rest = append(rest, p)
			continue
		}
		codes[p.r.LookupHash], p.taken = true, true
		batch = append(batch, p)
	}
	clear(b.queue[len(rest):])
	b.queue = rest
	return batch
}

// write writes a batch and hands each redemption its outcome. When the write fails (a
// deadlock with a bulk change of the same users, say), each redemption is written again alone,
// so that one's failure is not the others'.
func (b *redeemBatcher) write(batch []*pendingRedemption) {
	ctx, cancel := context.WithTimeout(context.Background(), redeemTimeout)
	defer cancel()
	rs := make([]Redemption, len(batch))
	for i, p := range batch {
		rs[i] = p.r
	}
	outs, err := b.store.redeemTogether(ctx, rs)
	for i, p := range batch {
		switch {
		case err == nil:
			p.out = outs[i]
		case len(batch) == 1:
			p.err = err
		default:
			var alone []*Redeemed
			if alone, p.err = b.store.redeemTogether(ctx, rs[i:i+1]); p.err == nil {
				p.out = alone[0]
			}
		}
		close(p.done)
	}
}
