// Package demo fills an account with realistic SDP users, fast enough for a million of them, so
// that the console's scale can be seen and measured.
package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"onramp/migrations"
	"onramp/models"
	"onramp/models/store"
)

// defaultChunk is how many users one transaction inserts.
const defaultChunk = 5000

var (
	firstNames = strings.Fields(`Ada Alan Alice Amara Anil Anna Ben Bianca Carlos Chen Chloe Daniel Diego Elena Emma Farah
		Felix Grace Hana Hugo Ines Isaac Ivan Jamal Jana Jonas Julia Kenji Laila Lars Leo Lina Lucas Maya Mei Mila Nadia Noah
		Nora Omar Oscar Priya Rafael Rosa Sam Sara Sofia Tariq Theo Uma Victor Wei Yara Yusuf Zoe`)
	lastNames = strings.Fields(`Abe Ahmed Alvarez Andersen Baker Banerjee Becker Bianchi Brown Chen Costa Cruz Dubois
		Eriksson Fischer Garcia Gomez Hansen Hughes Ito Jansen Jones Kim Kowalski Kumar Larsen Lee Lopez Martin Meyer Moreau
		Muller Nakamura Nguyen Novak Okafor Olsen Patel Perez Petrov Rossi Santos Schmidt Silva Smith Suzuki Tanaka Taylor
		Wagner Wang Weber Williams Wilson Yamamoto Zhang`)
	domains = []string{"example.com", "example.org", "corp.example", "eu.example.com"}
	origins = []string{models.OriginManual, models.OriginManual, models.OriginManual, models.OriginManual, models.OriginManual,
		models.OriginManual, models.OriginManual, "directory:okta", "directory:okta", "directory:corp-ad"}
)

// Progress is told how many users exist so far.
type Progress func(done, total int)

// Fill adds n users to the named account (created with default settings when missing), and
// nothing else: the benchmarks measure the users pages on it. Users are numbered after the
// account's existing ones so that repeated runs add rather than collide.
func Fill(ctx context.Context, s *store.Store, accountName string, n int, progress Progress) (*models.Account, error) {
	now := time.Now().UTC()
	return fill(ctx, s, accountName, n, defaultChunk, now.Add(-2*365*24*time.Hour), now, progress, []string{"sdp_users"}, nil,
		func(*models.Account) (addBatch, error) {
			return func(l *store.Loader, _ *rand.Rand, batch []*models.SDPUser) error { return l.Users(batch) }, nil
		})
}

// addBatch inserts one batch of new users, and whatever goes with them, in a transaction.
type addBatch func(l *store.Loader, rng *rand.Rand, batch []*models.SDPUser) error

// fill makes n users created from since to now, chunk users at a time, each chunk handed to the
// add that ready returns for the account, which writes to tables (sdp_users first); building is
// told when the indexes are built.
func fill(ctx context.Context, s *store.Store, accountName string, n, chunk int, since, now time.Time, progress Progress,
	tables []string, building func(), ready func(*models.Account) (addBatch, error)) (*models.Account, error) {
	if n <= 0 {
		return nil, errors.New("demo: --users must be positive")
	}
	name := models.NormalizeEmail(accountName)
	if m := models.ValidateAccountName(name); m != "" {
		return nil, fmt.Errorf("demo: account name: %s", m)
	}
	account, err := s.AccountByName(ctx, name)
	if errors.Is(err, models.ErrNotFound) {
		account = models.NewAccount(name)
		err = s.CreateAccount(ctx, account)
	}
	if err != nil {
		return nil, err
	}
	start, err := s.CountUsers(ctx, account.ID, store.UserFilter{})
	if err != nil {
		return nil, err
	}
	add, err := ready(account)
	if err != nil {
		return nil, err
	}
	// Into a database without users, every chunk goes in one transaction that builds the indexes
	// at its end (store.LoadFresh); into one with users, each chunk in a transaction of its own.
	err = s.LoadFresh(ctx, tables, building, func(l *store.Loader) error {
		return chunks(ctx, s, account.ID, int(start), n, chunk, since, now, progress, add,
			func(_ context.Context, fn func(*store.Loader) error) error { return fn(l) })
	})
	if errors.Is(err, store.ErrNotEmpty) {
		err = chunks(ctx, s, account.ID, int(start), n, chunk, since, now, progress, add, s.Load)
	}
	if err != nil {
		return nil, err
	}
	return account, nil
}

// chunks makes n users after the account's start first ones, created from since to now, chunk
// users at a time, each chunk handed to add in a load (a transaction of its own, or a turn on a
// shared one).
func chunks(ctx context.Context, s *store.Store, accountID int64, start, n, chunk int, since, now time.Time, progress Progress, add addBatch,
	load func(context.Context, func(*store.Loader) error) error) error {
	// Chunks are made and loaded by a few workers at once: on PostgreSQL the server's work for a
	// chunk (its COPYs) overlaps another's and the Go that makes the next. SQLite takes one
	// writer at a time, so one worker loads there.
	workers := 1
	if s.Dialect() == migrations.Postgres {
		workers = 4
	}
	span := now.Sub(since)
	g, gctx := errgroup.WithContext(ctx)
	froms := make(chan int)
	var mu sync.Mutex
	added := 0
	for range workers {
		g.Go(func() error {
			for from := range froms {
				size := min(chunk, n-from)
				// Each chunk has its own random source: the data do not depend on the workers' order.
				rng := rand.New(rand.NewPCG(uint64(accountID), uint64(start)+uint64(from)))
				batch := make([]*models.SDPUser, size)
				for i := range batch {
					seq := start + from + i
					batch[i] = user(rng, accountID, seq, since.Add(time.Duration(float64(span)*float64(from+i)/float64(n))))
				}
				if err := load(gctx, func(l *store.Loader) error { return add(l, rng, batch) }); err != nil {
					return err
				}
				mu.Lock()
				added += size
				if progress != nil {
					progress(added, n)
				}
				mu.Unlock()
			}
			return nil
		})
	}
	g.Go(func() error {
		defer close(froms)
		for from := 0; from < n; from += chunk {
			select {
			case froms <- from:
			case <-gctx.Done():
				return gctx.Err()
			}
		}
		return nil
	})
	return g.Wait()
}

func user(rng *rand.Rand, accountID int64, seq int, created time.Time) *models.SDPUser {
	first := firstNames[rng.IntN(len(firstNames))]
	last := lastNames[rng.IntN(len(lastNames))]
	u := &models.SDPUser{
		AccountID:  accountID,
		FirstName:  first,
		LastName:   last,
		Email:      fmt.Sprintf("%s.%s.%d@%s", strings.ToLower(first), strings.ToLower(last), seq, domains[seq%len(domains)]),
		Origin:     origins[rng.IntN(len(origins))],
		Status:     models.UserEnabled,
		Activation: models.ActivationActive,
		CreatedAt:  created,
		UpdatedAt:  created,
	}
	switch r := rng.IntN(100); {
	case r < 15:
		u.Activation = models.ActivationNew
	case r < 40:
		u.Activation = models.ActivationInvitationSent
	}
	if rng.IntN(100) < 8 {
		u.Status = models.UserDisabled
	}
	if u.Activation == models.ActivationActive && rng.IntN(100) < 20 {
		u.MFAConfigured = true
	}
	return u
}
