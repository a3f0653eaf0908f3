// Package demo fills an account with realistic SDP users, fast enough for a million of them, so
// that the console's scale can be seen and measured.
package demo

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"onramp/models"
	"onramp/models/store"
)

// chunk is how many users one transaction inserts.
const chunk = 5000

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
	return fill(ctx, s, accountName, n, now.Add(-2*365*24*time.Hour), now, progress,
		func(tx *store.Store, _ *rand.Rand, batch []*models.SDPUser) error { return tx.CreateUsers(ctx, batch) })
}

// addBatch inserts one batch of new users, and whatever goes with them, in a transaction.
type addBatch func(tx *store.Store, rng *rand.Rand, batch []*models.SDPUser) error

// fill makes n users created from since to now, chunk by chunk, each chunk handed to add.
func fill(ctx context.Context, s *store.Store, accountName string, n int, since, now time.Time, progress Progress, add addBatch) (*models.Account, error) {
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
	rng := rand.New(rand.NewPCG(uint64(account.ID), uint64(start)))
	span := now.Sub(since)
	for done := 0; done < n; done += chunk {
		size := min(chunk, n-done)
		batch := make([]*models.SDPUser, size)
		for i := range batch {
			seq := int(start) + done + i
			batch[i] = user(rng, account.ID, seq, since.Add(time.Duration(float64(span)*float64(done+i)/float64(n))))
		}
		if err := s.Tx(ctx, func(tx *store.Store) error { return add(tx, rng, batch) }); err != nil {
			return nil, err
		}
		if progress != nil {
			progress(done+size, n)
		}
	}
	return account, nil
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
	if rng.IntN(100) < 30 {
		u.HadCode = true
	}
	return u
}
