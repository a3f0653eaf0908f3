package demo

import (
	"context"
	"errors"
	"fmt"
	"html"
	"math/rand/v2"
	"sync"
	"time"

	"onramp/models"
	"onramp/models/codes"
	"onramp/models/secret"
	"onramp/models/store"
)

// Options say what Build makes.
type Options struct {
	Account string
	Users   int
	// Sealer seals the active codes, so that they redeem and export like any other.
	Sealer *codes.Sealer
	// Now ends the demo's month of activity (zero: now).
	Now      time.Time
	Progress Progress
	// Building, when set, is told when the load of a database without users has its rows in and
	// builds the indexes (a minute or so for a million users).
	Building func()
	// chunk is how many users a transaction inserts (0: defaultChunk); tests make it small.
	chunk int
}

// Result counts what Build added.
type Result struct {
	Account                             *models.Account
	Users, Codes, Devices, Events, Mail int
	// Admins are the emails of up to five admins of the account, who can sign in to it.
	Admins []string
}

const (
	// month is how far back the demo's activity goes.
	month = 30 * 24 * time.Hour
	// codeLife is the expiry of the demo's codes (the default setting).
	codeLife = 7 * 24 * time.Hour
)

var platforms = []string{"macos", "windows", "windows", "linux", "ios", "android"}

// Build fills an account as a month of real use would: users in every state (new, invited,
// active, with MFA, disabled; manual and directory), their codes (active, used, expired,
// revoked), devices (registered with a code or a password, some signed out), invitations and
// notices in every delivery state, and the events of all of it over the past 30 days. Rows go
// in batches of 5,000 users (COPY on PostgreSQL, multi-row INSERTs on SQLite): into a PostgreSQL
// database without users, all in one transaction that builds the indexes at its end; otherwise
// a transaction per batch (a few at once on PostgreSQL), so that a million users stay a matter
// of minutes.
func Build(ctx context.Context, s *store.Store, o Options) (*Result, error) {
	if o.Sealer == nil {
		return nil, errors.New("demo: no code sealer")
	}
	now := o.Now
	if now.IsZero() {
		now = time.Now().UTC()
	}
	res := &Result{}
	var mu sync.Mutex // the workers of fill share res
	// The builder reads the account and its admins before the load starts: a load into a
	// database without users holds the tables their foreign keys name.
	ready := func(account *models.Account) (addBatch, error) {
		b, err := newBuilder(ctx, s, account.ID, o.Sealer, now)
		if err != nil {
			return nil, err
		}
		res.Admins = b.admins
		return func(l *store.Loader, rng *rand.Rand, batch []*models.SDPUser) error {
			var got Result
			if err := b.add(l, rng, batch, &got); err != nil {
				return err
			}
			mu.Lock()
			defer mu.Unlock()
			res.Users, res.Codes, res.Devices = res.Users+got.Users, res.Codes+got.Codes, res.Devices+got.Devices
			res.Events, res.Mail = res.Events+got.Events, res.Mail+got.Mail
			return nil
		}, nil
	}
	chunk := o.chunk
	if chunk <= 0 {
		chunk = defaultChunk
	}
	account, err := fill(ctx, s, o.Account, o.Users, chunk, now.Add(-month), now.Add(-time.Hour), o.Progress,
		[]string{"sdp_users", "devices", "registration_codes", "events", "mail_messages"}, o.Building, ready)
	if err != nil {
		return nil, err
	}
	res.Account = account
	return res, nil
}

// builder makes the rows that go with a batch of users.
type builder struct {
	accountID int64
	account   string
	sealer    *codes.Sealer
	now       time.Time
	admin     models.Actor // who created, invited and disabled the users
	adminID   *int64
	admins    []string
}

func newBuilder(ctx context.Context, s *store.Store, accountID int64, sealer *codes.Sealer, now time.Time) (*builder, error) {
	account, err := s.Account(ctx, accountID)
	if err != nil {
		return nil, err
	}
	page, err := s.ListAdmins(ctx, accountID, 0, 5)
	if err != nil {
		return nil, err
	}
	b := &builder{accountID: accountID, account: account.Name, sealer: sealer, now: now,
		admin: models.Actor{Type: models.ActorAdmin, Label: "it-admin@" + domains[0], IP: "198.51.100.10"}}
	for i := range page.Admins {
		b.admins = append(b.admins, page.Admins[i].Email)
	}
	if len(page.Admins) > 0 {
		a := page.Admins[0]
		b.admin, b.adminID = models.AdminActor(&a, "198.51.100.10"), &a.ID
	}
	return b, nil
}

// plan is what happens to one user over the month, decided before the user is inserted (the
// user's devices counter follows from it) and turned into rows after (the rows need the user's id).
type plan struct {
	code        models.CodeState // "" for none
	codeAt      time.Time
	codeEnd     time.Time // used or revoked
	devices     []devicePlan
	mail        []mailPlan
	activatedAt time.Time // set a password on MyVPN
	mfaAt       time.Time
	disabledAt  time.Time
}

type devicePlan struct {
	via       string
	at        time.Time
	signedOut time.Time
	reason    string
	row       *models.Device
}

type mailPlan struct {
	kind   models.MailKind
	status models.MailStatus
	at     time.Time
}

// between is a time from a to b, and never after b.
func between(rng *rand.Rand, a, b time.Time) time.Time {
	if !a.Before(b) {
		return b
	}
	return a.Add(time.Duration(rng.Int64N(int64(b.Sub(a)))))
}

func (b *builder) plan(rng *rand.Rand, u *models.SDPUser) plan {
	var p plan
	at := func(from time.Time) time.Time { return between(rng, from, b.now) }
	switch u.Activation {
	case models.ActivationActive:
		switch {
		case u.MFAConfigured: // MFA users sign in with a password and their authenticator, never a code
			p.activatedAt = at(u.CreatedAt)
			p.mfaAt = at(p.activatedAt)
			p.devices = append(p.devices, devicePlan{via: models.ViaPassword, at: at(p.mfaAt)})
		case rng.IntN(2) == 0:
			p.code, p.codeAt = models.CodeUsed, at(u.CreatedAt)
			expiry := p.codeAt.Add(codeLife)
			if expiry.After(b.now) {
				expiry = b.now
			}
			p.codeEnd = between(rng, p.codeAt, expiry)
			p.devices = append(p.devices, devicePlan{via: models.ViaCode, at: p.codeEnd})
		default:
			p.activatedAt = at(u.CreatedAt)
			p.devices = append(p.devices, devicePlan{via: models.ViaPassword, at: at(p.activatedAt)})
		}
		if rng.IntN(4) == 0 { // a second machine, signed in with the password
			p.devices = append(p.devices, devicePlan{via: models.ViaPassword, at: at(p.devices[0].at)})
		}
		for i := range p.devices {
			if rng.IntN(7) == 0 {
				p.devices[i].signedOut, p.devices[i].reason = at(p.devices[i].at), "signed out by the user"
			}
		}
	case models.ActivationInvitationSent:
		p.mail = append(p.mail, mailPlan{kind: models.MailInvitation, status: mailStatus(rng), at: at(u.CreatedAt)})
	default:
		switch r := rng.IntN(100); {
		case r < 55:
			p.codeAt = at(u.CreatedAt)
			p.code = models.CodeActive
			if !p.codeAt.Add(codeLife).After(b.now) {
				p.code = models.CodeExpired
			}
		case r < 70:
			p.code, p.codeAt = models.CodeRevoked, at(u.CreatedAt)
			p.codeEnd = at(p.codeAt)
		}
	}
	if u.Status == models.UserDisabled {
		p.disable(rng, u, b.now)
	}
	return p
}

// disable ends the user's month disabled: their devices are signed out, an active code revoked
// and, for some, a notice mailed.
func (p *plan) disable(rng *rand.Rand, u *models.SDPUser, now time.Time) {
	last := latest(u.CreatedAt, p.codeAt, p.codeEnd, p.activatedAt, p.mfaAt)
	for _, d := range p.devices {
		last = latest(last, d.at, d.signedOut)
	}
	for _, m := range p.mail {
		last = latest(last, m.at)
	}
	p.disabledAt = between(rng, last, now)
	for i := range p.devices {
		if p.devices[i].signedOut.IsZero() {
			p.devices[i].signedOut, p.devices[i].reason = p.disabledAt, "user disabled"
		}
	}
	if p.code == models.CodeActive {
		p.code, p.codeEnd = models.CodeRevoked, p.disabledAt
	}
	if rng.IntN(2) == 0 {
		p.mail = append(p.mail, mailPlan{kind: models.MailDisabledNotice, status: models.MailSent, at: p.disabledAt})
	}
}

// latest is the latest of some times.
func latest(ts ...time.Time) time.Time {
	var l time.Time
	for _, t := range ts {
		if t.After(l) {
			l = t
		}
	}
	return l
}

// mailStatus is the delivery state of an invitation: mostly sent, some held (before SMTP was
// set up), queued or failed.
func mailStatus(rng *rand.Rand) models.MailStatus {
	switch r := rng.IntN(100); {
	case r < 20:
		return models.MailHeld
	case r < 30:
		return models.MailQueued
	case r < 40:
		return models.MailFailed
	}
	return models.MailSent
}

// add inserts a batch of users and everything their plans say happened to them.
func (b *builder) add(l *store.Loader, rng *rand.Rand, batch []*models.SDPUser, res *Result) error {
	plans := make([]plan, len(batch))
	for i, u := range batch {
		p := b.plan(rng, u)
		u.Devices = 0
		for _, d := range p.devices {
			if d.signedOut.IsZero() {
				u.Devices++
			}
		}
		plans[i] = p
	}
	if err := l.Users(batch); err != nil {
		return err
	}
	// Devices first: a used code names the device it registered.
	var devices []*models.Device
	for i, u := range batch {
		for j := range plans[i].devices {
			d := &plans[i].devices[j]
			d.row = b.device(rng, u, d)
			devices = append(devices, d.row)
		}
	}
	if err := l.Devices(devices); err != nil {
		return err
	}
	var (
		rcs    []*models.RegistrationCode
		events []*models.Event
		mails  []*models.MailMessage
	)
	for i, u := range batch {
		p := &plans[i]
		if p.code != "" {
			rcs = append(rcs, b.code(u, p))
		}
		for _, m := range p.mail {
			mails = append(mails, b.message(u, m))
		}
		events = append(events, b.events(rng, u, p)...)
	}
	if err := l.Codes(rcs); err != nil {
		return err
	}
	if err := l.Events(events); err != nil {
		return err
	}
	if err := l.Mail(mails); err != nil {
		return err
	}
	res.Users += len(batch)
	res.Devices += len(devices)
	res.Codes += len(rcs)
	res.Events += len(events)
	res.Mail += len(mails)
	return nil
}

func (b *builder) device(rng *rand.Rand, u *models.SDPUser, d *devicePlan) *models.Device {
	platform := platforms[rng.IntN(len(platforms))]
	row := &models.Device{AccountID: u.AccountID, SDPUserID: u.ID, Name: u.FirstName + "'s " + platform,
		Platform: platform, RegisteredVia: d.via, TokenHash: secret.Hash(secret.Token()), RegisteredAt: d.at,
		LastSeenAt: between(rng, d.at, b.now)}
	if !d.signedOut.IsZero() {
		row.LastSeenAt = d.signedOut
		row.RevokedAt, row.RevokedReason = &d.signedOut, d.reason
	}
	return row
}

// code is the user's registration code; only an active one keeps its sealed copy, as in use.
func (b *builder) code(u *models.SDPUser, p *plan) *models.RegistrationCode {
	c := codes.New()
	rc := &models.RegistrationCode{AccountID: u.AccountID, SDPUserID: u.ID, LookupHash: b.sealer.Lookup(c),
		GeneratedBy: models.GeneratedByAdmin, GeneratedByAdminID: b.adminID, CreatedAt: p.codeAt, ExpiresAt: p.codeAt.Add(codeLife)}
	switch p.code {
	case models.CodeActive:
		rc.Encrypted = b.sealer.Seal(u.AccountID, c)
	case models.CodeUsed:
		rc.UsedAt, rc.DeviceID = &p.codeEnd, &p.devices[0].row.ID
	case models.CodeRevoked:
		rc.RevokedAt = &p.codeEnd
	}
	return rc
}

func (b *builder) message(u *models.SDPUser, m mailPlan) *models.MailMessage {
	id := u.ID
	subject := "Your VPN access to " + b.account
	text := fmt.Sprintf("Hello %s,\n\nYou have been invited to the VPN of %s. (A demo message: its activation link was not kept.)\n",
		u.FirstName, b.account)
	if m.kind == models.MailDisabledNotice {
		subject = "Your VPN access to " + b.account + " is disabled"
		text = fmt.Sprintf("Hello %s,\n\nYour VPN access to %s has been disabled by an administrator.\n", u.FirstName, b.account)
	}
	msg := &models.MailMessage{AccountID: u.AccountID, SDPUserID: &id, Kind: m.kind, ToEmail: u.Email, Subject: subject,
		TextBody: text, HTMLBody: "<p>" + html.EscapeString(text) + "</p>", Status: m.status,
		MessageID: fmt.Sprintf("<demo.%d.%s@onramp.invalid>", u.ID, m.kind), CreatedAt: m.at, UpdatedAt: m.at}
	switch m.status {
	case models.MailSent:
		msg.Attempts, msg.SentAt = 1, &m.at
	case models.MailFailed:
		msg.Attempts, msg.LastError = 5, "550 5.1.1 <"+u.Email+">: recipient address rejected: user unknown"
	}
	return msg
}

// events are the audit trail of the user's plan, each at its time.
func (b *builder) events(rng *rand.Rand, u *models.SDPUser, p *plan) []*models.Event {
	userIP := fmt.Sprintf("203.0.113.%d", 1+rng.IntN(254))
	self := models.UserActor(u, userIP)
	client := models.Actor{Type: models.ActorClient, Label: u.Email, IP: userIP}
	created := b.admin
	if u.Origin != models.OriginManual {
		created = models.Actor{Type: models.ActorSystem, Label: u.Origin}
	}
	var es []*models.Event
	ev := func(at time.Time, t models.EventType, sub string, who models.Actor, details map[string]string) *models.Event {
		e := models.UserEvent(u, t, sub, who, details)
		e.OccurredAt = at
		es = append(es, e)
		return e
	}
	ev(u.CreatedAt, models.EventUser, models.SubUserCreated, created, map[string]string{"origin": u.Origin})
	for _, m := range p.mail {
		if m.kind == models.MailInvitation {
			ev(m.at, models.EventUser, models.SubUserInvited, b.admin, map[string]string{"reason": "new user"})
		}
	}
	if p.code != "" {
		ev(p.codeAt, models.EventCode, models.SubCodeGenerated, b.admin, map[string]string{"expires": p.codeAt.Add(codeLife).Format(time.RFC3339)})
		switch p.code {
		case models.CodeUsed:
			ev(p.codeEnd, models.EventCode, models.SubCodeUsed, client, map[string]string{"device": p.devices[0].row.Name})
		case models.CodeRevoked:
			ev(p.codeEnd, models.EventCode, models.SubCodeRevoked, b.admin, nil)
		}
	}
	if !p.activatedAt.IsZero() {
		ev(p.activatedAt, models.EventUser, models.SubUserActivated, self, nil)
		ev(p.activatedAt, models.EventPortal, models.SubSignedIn, self, nil)
	}
	if !p.mfaAt.IsZero() {
		ev(p.mfaAt, models.EventUser, models.SubMFAEnrolled, self, nil)
	}
	for _, d := range p.devices {
		id := d.row.ID
		ev(d.at, models.EventDevice, models.SubDeviceRegistered, client,
			map[string]string{"device": d.row.Name, "platform": d.row.Platform, "via": d.via}).DeviceID = &id
		if !d.signedOut.IsZero() {
			ev(d.signedOut, models.EventDevice, models.SubDeviceSignedOut, self, map[string]string{"reason": d.reason}).DeviceID = &id
		}
	}
	if !p.disabledAt.IsZero() {
		ev(p.disabledAt, models.EventUser, models.SubUserDisabled, b.admin, nil)
	}
	return es
}
