// Package stream owns event streaming (docs/streaming.md): an account's destinations (a signed
// webhook or a syslog collector) with their filters, and the delivery of every event they want,
// at least once and in order per destination.
//
// The database queues the deliveries: a trigger on events (migration 00032) writes a pending
// row per enabled destination whose filters match, in the transaction that writes the event,
// whatever code path wrote it. One River job per destination (unique) delivers its rows in
// order and is retried with backoff while the destination fails; it is kicked when a
// transaction that wrote events commits and by a sweep every few seconds. No request waits for
// a delivery.
package stream

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"onramp/models"
	"onramp/models/events"
	"onramp/models/jobs"
	"onramp/models/secret"
	"onramp/models/store"
	"onramp/models/twostep"
)

// Config tunes the service.
type Config struct {
	// AllowLoopback accepts http:// webhooks and addresses of this machine (loopback, link-local):
	// development and tests only. Otherwise webhooks must be https:// and may not reach them.
	AllowLoopback bool
	// RootCAs verify the webhook's and the syslog collector's TLS certificates; nil means the
	// system's.
	RootCAs *x509.CertPool
	// Hostname is the HOSTNAME of syslog messages; "" means "-" (RFC 5424's nil value).
	Hostname string
	// RetryDelay replaces the backoff schedule by a fixed delay (tests).
	RetryDelay time.Duration
	// SweepEvery is how often the sweep looks for deliveries no kick started; 0 means 10 seconds.
	SweepEvery time.Duration
	Logger     *slog.Logger
}

// Service manages destinations and delivers events to them.
type Service struct {
	store *store.Store
	jobs  *jobs.Jobs
	box   *twostep.Sealer
	cfg   Config
	log   *slog.Logger
	now   func() time.Time
	send  *senders

	// kicking is set while a kick runs; again asks it to look once more; kicks counts the
	// running one, which the store waits for when it closes. Once closed (under mu), no kick
	// starts: a WaitGroup must not gain work while it is waited for.
	kicking, again atomic.Bool
	kicks          sync.WaitGroup
	mu             sync.Mutex
	closed         bool
}

// New builds the service, registers its workers on j and asks s to report committed events.
func New(s *store.Store, keys *secret.Keys, j *jobs.Jobs, cfg Config) *Service {
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.SweepEvery <= 0 {
		cfg.SweepEvery = 10 * time.Second
	}
	sv := &Service{store: s, jobs: j, box: twostep.NewSealer(keys.DeriveAll("stream")...), cfg: cfg, log: log,
		now: func() time.Time { return time.Now().UTC() }}
	sv.send = newSenders(cfg)
	sv.registerJobs()
	s.OnEventsCommitted(sv.Kick)
	s.OnClose(sv.closeKicks)
	return sv
}

// WithClock replaces the clock (tests).
func (s *Service) WithClock(now func() time.Time) *Service {
	s.now = now
	return s
}

// Destination is a destination as pages and the API show it: never its secret.
type Destination struct {
	models.StreamDestination
	// Filters are what it wants, as typed ("Type" or "Type / Sub-type"); none means everything.
	Filters []string
	// Pending counts the deliveries still to make.
	Pending int64
}

// Input is a new destination as typed.
type Input struct {
	Kind    models.StreamKind
	Name    string
	URL     string
	Filters []string
}

// Created is a new destination with its signing secret (webhooks): shown once.
type Created struct {
	Destination Destination
	Secret      string
}

// Limits of the form.
const (
	maxName    = 100
	maxURL     = 2000
	maxFilters = 50
	maxSubType = 100
)

// secretAAD binds a sealed secret to its account.
func secretAAD(accountID int64) string { return "stream-secret:" + strconv.FormatInt(accountID, 10) }

// List returns an account's destinations with their filters and backlog.
func (s *Service) List(ctx context.Context, accountID int64) ([]Destination, error) {
	ds, err := s.store.StreamDestinations(ctx, accountID)
	if err != nil {
		return nil, err
	}
	return s.describe(ctx, accountID, ds)
}

func (s *Service) describe(ctx context.Context, accountID int64, ds []models.StreamDestination) ([]Destination, error) {
	ids := make([]int64, len(ds))
	for i, d := range ds {
		ids[i] = d.ID
	}
	filters, err := s.store.StreamFilters(ctx, ids)
	if err != nil {
		return nil, err
	}
	pending, err := s.store.PendingCounts(ctx, accountID)
	if err != nil {
		return nil, err
	}
	out := make([]Destination, len(ds))
	for i, d := range ds {
		out[i] = Destination{StreamDestination: d, Filters: FormatFilters(filters[d.ID]), Pending: pending[d.ID]}
	}
	return out, nil
}

// Get returns a destination of an account with its newest attempts (the delivery log).
func (s *Service) Get(ctx context.Context, accountID, id int64) (Destination, []models.StreamAttempt, error) {
	d, err := s.store.StreamDestination(ctx, accountID, id)
	if err != nil {
		return Destination{}, nil, err
	}
	ds, err := s.describe(ctx, accountID, []models.StreamDestination{*d})
	if err != nil {
		return Destination{}, nil, err
	}
	attempts, err := s.store.StreamAttempts(ctx, id, 50)
	return ds[0], attempts, err
}

// Create adds a destination to an account; a webhook gets a new signing secret, returned once.
// Bad input is a *models.ValidationError naming the field.
func (s *Service) Create(ctx context.Context, accountID int64, who models.Actor, in Input) (Created, error) {
	in.Name, in.URL = strings.TrimSpace(in.Name), strings.TrimSpace(in.URL)
	filters, err := s.validate(&in)
	if err != nil {
		return Created{}, err
	}
	now := s.now()
	d := models.StreamDestination{AccountID: accountID, Kind: in.Kind, Name: in.Name, URL: in.URL, Enabled: true, CreatedAt: now, UpdatedAt: now}
	var plain string
	if in.Kind == models.StreamWebhook {
		plain = "whsec_" + secret.Token()
		d.SecretSealed = s.box.Seal(plain, secretAAD(accountID))
	}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.CreateStreamDestination(ctx, &d, filters); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, s.event(&d, models.SubStreamCreated, who, map[string]string{"filters": strings.Join(in.Filters, "; ")}))
	})
	if err != nil {
		return Created{}, err
	}
	return Created{Destination: Destination{StreamDestination: d, Filters: FormatFilters(filters)}, Secret: plain}, nil
}

// event is an Event Streaming event about d; the URL is not in it (a webhook URL may carry a
// token of the receiver's), only its host.
func (s *Service) event(d *models.StreamDestination, sub string, who models.Actor, extra map[string]string) *models.Event {
	details := map[string]string{"destination_id": strconv.FormatInt(d.ID, 10), "kind": string(d.Kind), "name": d.Name}
	if u, err := url.Parse(d.URL); err == nil {
		details["host"] = u.Host
	}
	for k, v := range extra {
		if v != "" {
			details[k] = v
		}
	}
	return models.NewEvent(&d.AccountID, models.EventStream, sub, who, "", details)
}

// SetEnabled turns a destination on or off. A destination that is off gets no new deliveries;
// those it had wait until it is on again.
func (s *Service) SetEnabled(ctx context.Context, accountID int64, who models.Actor, id int64, enabled bool) error {
	err := s.store.Tx(ctx, func(tx *store.Store) error {
		d, err := tx.StreamDestination(ctx, accountID, id)
		if err != nil {
			return err
		}
		if d.Enabled == enabled {
			return nil
		}
		if err := tx.SetStreamDestinationEnabled(ctx, accountID, id, enabled); err != nil {
			return err
		}
		sub := models.SubStreamDisabled
		if enabled {
			sub = models.SubStreamEnabled
		}
		return tx.CreateEvent(ctx, s.event(d, sub, who, nil))
	})
	if err == nil && enabled {
		s.Kick()
	}
	return err
}

// Delete removes a destination, with the deliveries it still had to make.
func (s *Service) Delete(ctx context.Context, accountID int64, who models.Actor, id int64) error {
	return s.store.Tx(ctx, func(tx *store.Store) error {
		d, err := tx.StreamDestination(ctx, accountID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteStreamDestination(ctx, accountID, id); err != nil {
			return err
		}
		return tx.CreateEvent(ctx, s.event(d, models.SubStreamDeleted, who, nil))
	})
}

// validate checks the input and returns its filters.
func (s *Service) validate(in *Input) ([]models.StreamFilter, error) {
	ve := &models.ValidationError{Fields: map[string]string{}}
	switch {
	case in.Name == "":
		ve.Fields["name"] = "Enter a name."
	case len(in.Name) > maxName:
		ve.Fields["name"] = fmt.Sprintf("At most %d characters.", maxName)
	}
	switch in.Kind {
	case models.StreamWebhook:
		if msg := s.checkWebhookURL(in.URL); msg != "" {
			ve.Fields["url"] = msg
		}
	case models.StreamSyslog:
		if msg := checkSyslogURL(in.URL); msg != "" {
			ve.Fields["url"] = msg
		}
	default:
		ve.Fields["kind"] = "Choose webhook or syslog."
	}
	filters, msg := ParseFilters(in.Filters)
	if msg != "" {
		ve.Fields["events"] = msg
	}
	if len(ve.Fields) > 0 {
		return nil, ve
	}
	return filters, nil
}

func (s *Service) checkWebhookURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "Enter the URL events are posted to."
	case len(raw) > maxURL:
		return fmt.Sprintf("At most %d characters.", maxURL)
	case err != nil || u.Host == "" || u.Opaque != "":
		return "Enter a full URL, such as https://siem.example.com/onramp."
	case u.User != nil:
		return "Put no user name or password in the URL: requests are signed (Onramp-Signature)."
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && s.cfg.AllowLoopback && isLoopbackHost(u.Hostname()):
		return ""
	}
	return "The URL must start with https:// (events are sent only over TLS)."
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// checkSyslogURL accepts tcp://host:port and tls://host:port.
func checkSyslogURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case raw == "":
		return "Enter the collector's address, such as tls://siem.example.com:6514."
	case len(raw) > maxURL:
		return fmt.Sprintf("At most %d characters.", maxURL)
	case err != nil || (u.Scheme != "tcp" && u.Scheme != "tls"):
		return "Enter tcp://host:port or tls://host:port (UDP is not offered: it loses messages)."
	case u.Hostname() == "" || u.Port() == "" || (u.Path != "" && u.Path != "/") || u.User != nil:
		return "Enter a host and a port only, such as tls://siem.example.com:6514."
	}
	return ""
}

// ParseFilters reads filters typed as "Type" (every sub-type) or "Type / Sub-type", blank
// entries ignored; the message says what is wrong, "" when nothing is.
func ParseFilters(in []string) ([]models.StreamFilter, string) {
	var out []models.StreamFilter
	for _, raw := range in {
		raw = strings.TrimSpace(raw)
		if raw == "" {
			continue
		}
		typ, sub, _ := strings.Cut(raw, "/")
		f := models.StreamFilter{Type: strings.TrimSpace(typ), SubType: strings.TrimSpace(sub)}
		if !slices.Contains(events.Types, models.EventType(f.Type)) {
			return nil, fmt.Sprintf("%q is not an event type. Types: %s.", f.Type, typeList())
		}
		if len(f.SubType) > maxSubType {
			return nil, fmt.Sprintf("A sub-type has at most %d characters.", maxSubType)
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	if len(out) > maxFilters {
		return nil, fmt.Sprintf("At most %d filters.", maxFilters)
	}
	return out, ""
}

func typeList() string {
	names := make([]string, len(events.Types))
	for i, t := range events.Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// FormatFilters writes filters as ParseFilters reads them.
func FormatFilters(fs []models.StreamFilter) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Type
		if f.SubType != "" {
			out[i] += " / " + f.SubType
		}
	}
	return out
}

// ErrDisabled is SendTest's answer for a destination that is turned off.
var ErrDisabled = errors.New("the destination is turned off")

// ResealSecrets rewrites webhook secrets sealed under the previous ONRAMP_SECRET under the
// current one (onramp secret reseal).
func (s *Service) ResealSecrets(ctx context.Context) (store.Resealed, error) {
	return twostep.Reseal(ctx, s.store, store.SealedStreamSecret, s.box, func(v store.Sealed) string {
		return secretAAD(v.AccountID)
	})
}
