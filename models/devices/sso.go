package devices

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"onramp/models"
	"onramp/models/ratelimit"
	"onramp/models/secret"
	"onramp/models/store"
)

// The VPN client's sign-in with the account's identity provider, a device authorization flow in
// the spirit of RFC 8628 (docs/sso.md#the-vpn-client). StartSSO gives the client two secrets:
// a poll token it keeps, and a link it shows the person. The first browser to open the link
// and continue claims the sign-in (the hash of its sign-in cookie is stored) and signs in with
// the provider; only a provider sign-in completed in that browser completes it. The client polls
// with its token until then and gets its device credential once. The link alone never yields a
// credential: whoever holds it can at most sign in as themselves for a device they do not hold.
const (
	// SSOLoginTTL is how long a client sign-in may take, from start to the last poll.
	SSOLoginTTL = 10 * time.Minute
	// SSOPollInterval is how long a client waits between polls at first.
	SSOPollInterval = 5 * time.Second
	// ssoSlowDown is how many seconds a poll that came too early adds to the interval (RFC 8628).
	ssoSlowDown = 5
	// maxSSOSecret bounds the poll token and the link secret before they are hashed.
	maxSSOSecret = 128
)

// The call names of the device flow in events.
const (
	CallSSOStart = "sso start"
	CallSSOPoll  = "sso poll"
)

// Per-client budgets of the device flow (docs/sso.md): every start takes one, every poll one.
// A start creates a row, so starts are few; polls come every few seconds from each waiting
// client, so an office behind one address needs many.
var (
	ssoStartBurst, ssoStartEvery = 20, 30 * time.Second
	ssoPollBurst, ssoPollEvery   = 120, time.Second / 4
)

// Outcomes of a poll, beyond the device (docs/sso.md: each has its stable code).
var (
	// ErrAuthorizationPending: the person has not finished signing in yet.
	ErrAuthorizationPending = errors.New("authorization pending")
	// ErrSlowDown: the poll came before the interval passed; the interval grows.
	ErrSlowDown = errors.New("polling too fast")
	// ErrInvalidPollToken: no sign-in has this poll token.
	ErrInvalidPollToken = fmt.Errorf("%w: unknown poll token", models.ErrUnauthorized)
	// ErrPollTokenUsed: the sign-in gave its device already: a poll token works once.
	ErrPollTokenUsed = fmt.Errorf("%w: poll token already used", models.ErrGone)
	// ErrSSOExpired: the sign-in was not completed within SSOLoginTTL.
	ErrSSOExpired = fmt.Errorf("%w: sign-in expired", models.ErrGone)
	// ErrSSOClaimed: another browser opened the link first.
	ErrSSOClaimed = fmt.Errorf("%w: sign-in claimed by another browser", models.ErrConflict)
)

// SSORefusedError is the answer to a poll once the person's sign-in was refused (unknown or
// disabled user...): Reason says why, for the person.
type SSORefusedError struct{ Reason string }

func (e *SSORefusedError) Error() string { return "sign-in refused: " + e.Reason }

// Unwrap makes a refusal a models.ErrForbidden for the one error handler.
func (e *SSORefusedError) Unwrap() error { return models.ErrForbidden }

// SSOStartInput is what a client sends to begin signing in with the provider.
type SSOStartInput struct {
	Account, DeviceName, Platform string
}

// SSOStart is what the client gets: the link's secret (for the person's browser), the poll
// token (for itself alone), and how often and how long it may poll.
type SSOStart struct {
	LinkSecret, PollToken string
	Interval, ExpiresIn   time.Duration
}

// ErrSSONotEnabled: the account named does not exist or its users do not sign in with an
// identity provider (the same answer: account names are not told apart).
var ErrSSONotEnabled = fmt.Errorf("%w: single sign-on is not turned on for this account", models.ErrForbidden)

// SSOProviders says whether an account's users sign in with an identity provider
// (models/sso.Service): the label is "" when they do not, or when there is no such account.
type SSOProviders interface {
	ProviderLabel(ctx context.Context, accountName string) (string, error)
}

// WithSSO sets who says which accounts sign in with a provider; call it before the service is
// used. Without it no account does.
func (s *Service) WithSSO(p SSOProviders) *Service {
	s.providers = p
	return s
}

// ssoAccount is the account named, when its users sign in with an identity provider.
func (s *Service) ssoAccount(ctx context.Context, name string) (*models.Account, error) {
	if s.providers == nil {
		return nil, ErrSSONotEnabled
	}
	label, err := s.providers.ProviderLabel(ctx, name)
	if err != nil || label == "" {
		return nil, cmp.Or(err, ErrSSONotEnabled)
	}
	account, err := s.store.AccountByName(ctx, models.NormalizeEmail(name)) // same trim and lowercase
	if errors.Is(err, models.ErrNotFound) {
		return nil, ErrSSONotEnabled
	}
	return account, err
}

// ssoLimiters are the device flow's per-client budgets.
type ssoLimiters struct {
	starts, polls *ratelimit.Limiter
}

func newSSOLimiters(st ratelimit.Store) ssoLimiters {
	return ssoLimiters{starts: ratelimit.New(ssoStartBurst, ssoStartEvery).Shares(st, "client.sso.start"),
		polls: ratelimit.New(ssoPollBurst, ssoPollEvery).Shares(st, "client.sso.poll")}
}

// StartSSO begins a client's sign-in with the identity provider of an account whose users sign
// in with it (checked by usesSSO). An account that does not exist and one without single
// sign-on get the same ErrSSONotEnabled, so that account names are not told apart.
func (s *Service) StartSSO(ctx context.Context, in SSOStartInput, ip string) (*SSOStart, error) {
	if ok, wait := s.sso.starts.Take(ratelimit.ClientKey(ip)); !ok {
		return nil, s.noteLimited(ctx, CallSSOStart, ip, &models.RateLimitError{RetryAfter: wait})
	}
	name, platform, err := deviceFields(in.DeviceName, in.Platform)
	if strings.TrimSpace(in.Account) == "" {
		err = addField(err, "account", "The account name is required.")
	}
	if err != nil {
		return nil, s.RefuseRequest(ctx, CallSSOStart, ip, err)
	}
	account, err := s.ssoAccount(ctx, in.Account)
	if errors.Is(err, ErrSSONotEnabled) {
		return nil, s.noteRefusal(ctx, CallSSOStart, ip, models.SubClientSignInFailed,
			map[string]string{"reason": "single sign-on not enabled for the account named"}, err)
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if err := s.store.DeleteClientLoginsBefore(ctx, now.Add(-SSOLoginTTL)); err != nil {
		return nil, err
	}
	start := &SSOStart{LinkSecret: secret.Token(), PollToken: secret.Token(), Interval: SSOPollInterval, ExpiresIn: SSOLoginTTL}
	l := &models.ClientLogin{AccountID: account.ID, PollHash: secret.Hash(start.PollToken), LinkHash: secret.Hash(start.LinkSecret),
		DeviceName: name, Platform: platform, SourceIP: ip, IntervalSeconds: int(SSOPollInterval / time.Second),
		CreatedAt: now, ExpiresAt: now.Add(SSOLoginTTL)}
	if err := s.store.CreateClientLogin(ctx, l); err != nil {
		return nil, err
	}
	return start, nil
}

// PollSSO answers a client's poll: ErrAuthorizationPending until the person signed in, then
// (once) the new device and its credential. A poll before the interval passed is ErrSlowDown
// and makes the interval longer; an unknown token is ErrInvalidPollToken, a used one
// ErrPollTokenUsed, an expired sign-in ErrSSOExpired, a refused one an *SSORefusedError. Device
// Registered (via sso) is written with the device, in its transaction.
func (s *Service) PollSSO(ctx context.Context, pollToken, ip string) (*Registration, error) {
	if ok, wait := s.sso.polls.Take(ratelimit.ClientKey(ip)); !ok {
		return nil, s.noteLimited(ctx, CallSSOPoll, ip, &models.RateLimitError{RetryAfter: wait})
	}
	refuse := func(reason string, err error) (*Registration, error) {
		return nil, s.noteRefusal(ctx, CallSSOPoll, ip, models.SubClientSignInFailed, map[string]string{"reason": reason}, err)
	}
	if strings.TrimSpace(pollToken) == "" {
		return nil, s.RefuseRequest(ctx, CallSSOPoll, ip, models.NewValidationError("poll_token", "The poll token is required."))
	}
	if len(pollToken) > maxSSOSecret {
		return refuse("unknown poll token", ErrInvalidPollToken)
	}
	l, err := s.store.ClientLoginByPoll(ctx, secret.Hash(pollToken))
	if errors.Is(err, models.ErrNotFound) {
		return refuse("unknown poll token", ErrInvalidPollToken)
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	switch {
	case l.UsedAt != nil:
		return refuse("poll token used already", ErrPollTokenUsed)
	case !now.Before(l.ExpiresAt):
		return refuse("sign-in expired", ErrSSOExpired)
	}
	early := l.PolledAt != nil && now.Sub(*l.PolledAt) < l.Interval()
	slower := 0
	if early {
		slower = ssoSlowDown
	}
	if err := s.store.RecordClientPoll(ctx, l, now, slower); errors.Is(err, models.ErrNotFound) {
		return nil, ErrSlowDown // another poll of the same token, at the same moment
	} else if err != nil {
		return nil, err
	}
	switch {
	case early:
		return nil, ErrSlowDown
	case l.CompletedAt == nil:
		return nil, ErrAuthorizationPending
	case l.Refusal != "":
		return nil, &SSORefusedError{Reason: l.Refusal}
	}
	return s.registerSSO(ctx, l, ip)
}

// registerSSO creates the device of a completed client sign-in, once: of two concurrent polls
// one wins, the other is ErrPollTokenUsed.
func (s *Service) registerSSO(ctx context.Context, l *models.ClientLogin, ip string) (*Registration, error) {
	now := s.now()
	token := secret.Token()
	var reg *Registration
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		// Counting on the user's row only while enabled orders this with a concurrent Disable.
		if err := tx.CountNewDevice(ctx, l.AccountID, *l.SDPUserID); errors.Is(err, models.ErrNotFound) {
			return ErrUserDisabled
		} else if err != nil {
			return err
		}
		u, err := tx.User(ctx, l.AccountID, *l.SDPUserID)
		if err != nil {
			return err
		}
		d := newDevice(u, l.DeviceName, l.Platform, models.ViaSSO, token, now)
		if err := tx.CreateDevice(ctx, d); err != nil {
			return err
		}
		if err := tx.UseClientLogin(ctx, l.AccountID, l.ID, d.ID, now); errors.Is(err, models.ErrNotFound) {
			return ErrPollTokenUsed
		} else if err != nil {
			return err
		}
		if err := tx.CreateEvent(ctx, registeredEvent(u, d, clientActor(u, ip), models.ViaSSO)); err != nil {
			return err
		}
		account, err := tx.Account(ctx, l.AccountID)
		if err != nil {
			return err
		}
		reg = &Registration{Device: d, Token: token, User: u, Account: account}
		return nil
	})
	if errors.Is(err, ErrUserDisabled) {
		if err := s.ssoFailed(ctx, l, ip, ReasonUserDisabled); err != nil {
			return nil, err
		}
	}
	return reg, err
}

// ssoFailed writes the Client / Sign-in Failed event of a client sign-in of a known user.
func (s *Service) ssoFailed(ctx context.Context, l *models.ClientLogin, ip, reason string) error {
	u, err := s.store.User(ctx, l.AccountID, *l.SDPUserID)
	if err != nil {
		return err
	}
	e := models.UserEvent(u, models.EventClient, models.SubClientSignInFailed, clientActor(u, ip),
		map[string]string{"reason": reason, "via": models.ViaSSO, "device": l.DeviceName})
	return s.store.CreateEvent(ctx, e)
}

// SSOLink is a client sign-in as its link's page shows it to the person in the browser.
type SSOLink struct {
	Login   *models.ClientLogin
	Account *models.Account
	// Elsewhere is set when another browser claimed the sign-in first.
	Elsewhere bool
}

// Payload is what the provider sign-in of this client sign-in carries (sso.Service.Begin), for
// CompleteSSO and RefuseSSO to find it again.
func (l *SSOLink) Payload() string { return strconv.FormatInt(l.Login.ID, 10) }

// SSOLinkFor loads the live, unfinished client sign-in of a link's secret for the browser of
// binding ("" when it has no sign-in cookie yet). An unknown link, an expired or finished
// sign-in are models.ErrGone.
func (s *Service) SSOLinkFor(ctx context.Context, linkSecret, binding string) (*SSOLink, error) {
	if linkSecret == "" || len(linkSecret) > maxSSOSecret {
		return nil, models.ErrGone
	}
	l, err := s.store.ClientLoginByLink(ctx, secret.Hash(linkSecret))
	if errors.Is(err, models.ErrNotFound) {
		return nil, models.ErrGone
	}
	if err != nil {
		return nil, err
	}
	if l.CompletedAt != nil || !s.now().Before(l.ExpiresAt) {
		return nil, models.ErrGone
	}
	account, err := s.store.Account(ctx, l.AccountID)
	if err != nil {
		return nil, err
	}
	return &SSOLink{Login: l, Account: account, Elsewhere: l.BrowserHash != "" && l.BrowserHash != hashBinding(binding)}, nil
}

// hashBinding is how a browser's sign-in cookie is kept ("" for none, which matches no claim).
func hashBinding(binding string) string {
	if binding == "" {
		return ""
	}
	return secret.Hash(binding)
}

// ClaimSSO binds the client sign-in of a link to the browser of binding (its single sign-on
// cookie), before that browser goes to the provider: the first browser gets it, the same
// browser may continue again (a reload, the back button), another gets ErrSSOClaimed and a
// Client / Sign-in Failed event, for the link may have been seen by someone else. Returns the
// sign-in (its account names the provider to go to).
func (s *Service) ClaimSSO(ctx context.Context, linkSecret, binding, ip string) (*SSOLink, error) {
	link, err := s.SSOLinkFor(ctx, linkSecret, binding)
	if err != nil {
		return nil, err
	}
	if binding == "" {
		return nil, errors.New("devices: claim without a browser binding")
	}
	l := link.Login
	err = s.store.ClaimClientLogin(ctx, l.AccountID, l.ID, hashBinding(binding), s.now())
	if errors.Is(err, models.ErrNotFound) {
		return nil, s.linkRefused(ctx, l, ip, "sign-in link opened in another browser", ErrSSOClaimed)
	}
	return link, err
}

// CompleteSSO finishes the client sign-in of a provider sign-in's payload (the sign-in's id,
// as ClaimSSO's caller began it) with the user the provider vouched for, when the browser that
// completed the provider's sign-in (binding) is the one that claimed it. The client's next poll
// gets the device. Another browser's completion is ErrSSOClaimed (with an event), an expired or
// finished sign-in models.ErrGone.
func (s *Service) CompleteSSO(ctx context.Context, accountID int64, payload, binding string, u *models.SDPUser, ip string) (*models.ClientLogin, error) {
	return s.finishSSO(ctx, accountID, payload, binding, &u.ID, "", ip)
}

// RefuseSSO finishes the client sign-in of payload with the refusal the provider's sign-in got
// (unknown user, disabled user...), so that the client's next poll says so: message is what
// the person is told, and the client shows it too.
func (s *Service) RefuseSSO(ctx context.Context, accountID int64, payload, binding, message, ip string) error {
	_, err := s.finishSSO(ctx, accountID, payload, binding, nil, message, ip)
	return err
}

func (s *Service) finishSSO(ctx context.Context, accountID int64, payload, binding string, userID *int64, refusal, ip string) (*models.ClientLogin, error) {
	id, err := strconv.ParseInt(payload, 10, 64)
	if err != nil {
		return nil, models.ErrGone
	}
	l, err := s.store.ClientLogin(ctx, accountID, id)
	if errors.Is(err, models.ErrNotFound) {
		return nil, models.ErrGone
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	err = s.store.CompleteClientLogin(ctx, accountID, id, hashBinding(binding), userID, refusal, now)
	switch {
	case errors.Is(err, models.ErrNotFound) && l.CompletedAt == nil && now.Before(l.ExpiresAt):
		return nil, s.linkRefused(ctx, l, ip, "sign-in completed in another browser", ErrSSOClaimed)
	case errors.Is(err, models.ErrNotFound):
		return nil, models.ErrGone
	case err != nil:
		return nil, err
	}
	l.SDPUserID, l.Refusal, l.CompletedAt = userID, refusal, &now
	return l, nil
}

// linkRefused writes the Client / Sign-in Failed event of a browser turned away from a client
// sign-in, and returns fail.
func (s *Service) linkRefused(ctx context.Context, l *models.ClientLogin, ip, reason string, fail error) error {
	e := models.NewEvent(&l.AccountID, models.EventClient, models.SubClientSignInFailed, models.Actor{Type: models.ActorUser, IP: ip}, "",
		map[string]string{"reason": reason, "via": models.ViaSSO, "device": l.DeviceName, "client_ip": l.SourceIP})
	if err := s.store.CreateEvent(ctx, e); err != nil {
		return err
	}
	return fail
}
