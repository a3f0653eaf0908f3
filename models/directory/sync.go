package directory

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"onramp/models"
	"onramp/models/directory/ldap"
	"onramp/models/store"
	"onramp/models/text"
	"onramp/models/users"
)

// syncBatch is how many changes one transaction of a sync commits: a sync of 100,000 users
// never holds one transaction for all of them, and its progress shows as batches commit.
const syncBatch = 500

// syncStop ends a sync without changing anything: failed (unreachable, refused, zero users)
// or blocked by a safety limit.
type syncStop struct {
	status  models.SyncStatus
	reason  string
	details map[string]string
}

func (e *syncStop) Error() string { return e.reason }

func failed(format string, args ...any) *syncStop {
	return &syncStop{status: models.SyncFailed, reason: fmt.Sprintf(format, args...)}
}

// RunSync runs a queued sync of an LDAP directory to its end: it reads every user of the
// directory, plans against the directory's users in Onramp (keyed by the directory's stable
// id), checks the safety limits and applies the plan in batches through the users service,
// so that provisioning and events happen as for SCIM. A sync that cannot reach or bind to the
// server, reads no users where Onramp has some, or trips a limit changes nothing and ends
// failed or blocked; that is an outcome, not an error. An error (the database, a cancelled
// context) leaves the sync running: running it again restarts it safely, the plan being made
// afresh against what was committed.
func (s *Service) RunSync(ctx context.Context, accountID, syncID int64) error {
	ds, err := s.store.DirectorySync(ctx, accountID, syncID)
	if err != nil {
		return err
	}
	if !ds.Open() {
		return nil
	}
	d, err := s.store.DirectoryByID(ctx, accountID, ds.DirectoryID)
	if err != nil {
		return err
	}
	l, err := s.store.LDAPSettings(ctx, accountID, d.ID)
	if errors.Is(err, models.ErrNotFound) {
		return s.finishSync(ctx, ds, failed("%s has no LDAP connection settings.", d.Name))
	}
	if err != nil {
		return err
	}
	if ds.Status == models.SyncQueued {
		err := s.store.Tx(ctx, func(tx *store.Store) error {
			if err := tx.StartDirectorySync(ctx, ds, s.now()); err != nil {
				return err
			}
			return tx.CreateEvent(ctx, models.NewEvent(&accountID, models.EventDirectorySync, models.SubSyncStarted, ds.Actor(), "",
				map[string]string{"directory": d.Name, "cause": string(ds.Cause)}))
		})
		if err != nil {
			return err
		}
	}
	r := &syncRun{s: s, ds: ds, d: d, l: l}
	err = r.run(ctx)
	var stop *syncStop
	if errors.As(err, &stop) {
		return s.finishSync(ctx, ds, stop)
	}
	if err != nil {
		return err
	}
	return s.finishSync(ctx, ds, nil)
}

// finishSync records the outcome of a sync (stop nil: done) with its event, and moves the
// directory's schedule on.
func (s *Service) finishSync(ctx context.Context, ds *models.DirectorySync, stop *syncStop) error {
	d, err := s.store.DirectoryByID(ctx, ds.AccountID, ds.DirectoryID)
	if err != nil {
		return err
	}
	now := s.now()
	ds.Status, ds.FinishedAt, ds.UpdatedAt = models.SyncDone, &now, now
	details := map[string]string{"directory": d.Name, "cause": string(ds.Cause)}
	sub := models.SubSyncFinished
	if stop != nil {
		ds.Status, ds.Error, sub = stop.status, stop.reason, models.SubSyncFailed
		details["reason"] = stop.reason
		for k, v := range stop.details {
			details[k] = v
		}
	} else {
		for k, v := range map[string]int{"created": ds.Created, "updated": ds.Updated, "disabled": ds.Disabled,
			"deleted": ds.Deleted, "unchanged": ds.Unchanged, "skipped": ds.Skipped} {
			details[k] = strconv.Itoa(v)
		}
		if ds.SkipReasons != "" {
			details["skipped_because"] = ds.SkipReasons
		}
	}
	return s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.SaveDirectorySync(ctx, ds); err != nil {
			return err
		}
		l, err := tx.LDAPSettings(ctx, ds.AccountID, ds.DirectoryID)
		if err == nil && l.ScheduleHours > 0 {
			next := now.Add(time.Duration(l.ScheduleHours) * time.Hour)
			err = tx.SetLDAPNextSync(ctx, ds.AccountID, ds.DirectoryID, &next)
		}
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return err
		}
		return tx.CreateEvent(ctx, models.NewEvent(&ds.AccountID, models.EventDirectorySync, sub, d.Actor(""), "", details))
	})
}

// syncRun is one attempt of a sync.
type syncRun struct {
	s  *Service
	ds *models.DirectorySync
	d  *models.Directory
	l  *models.LDAPSettings
}

func (r *syncRun) run(ctx context.Context) error {
	entries, err := r.read(ctx)
	if err != nil {
		return err
	}
	existing, err := r.existing(ctx)
	if err != nil {
		return err
	}
	p, err := r.plan(ctx, entries, existing)
	if err != nil {
		return err
	}
	if len(p.valid) == 0 && len(existing) > 0 {
		why := "The directory returned no users"
		if len(entries) > 0 {
			why = fmt.Sprintf("None of the %d users the directory returned could be used (%s)", len(entries), p.skipText())
		}
		return failed("%s, but %s has %d users in Onramp: nothing was changed. Check the base DN, the user filter, the group and the attribute mapping.",
			why, r.d.Name, len(existing))
	}
	if err := r.checkLimits(p, len(existing)); err != nil {
		return err
	}
	return r.apply(ctx, p)
}

// read returns every user the directory's settings select, saving how many were read as it
// goes (the sync's progress).
func (r *syncRun) read(ctx context.Context) ([]ldap.DirectoryUser, error) {
	password, err := r.s.openPassword(r.l)
	if err != nil {
		return nil, failed("The bind password cannot be opened (was ONRAMP_SECRET changed?): enter it again in the connection settings.")
	}
	c, err := ldap.Dial(ctx, ldapConfig(r.l, password))
	if err != nil {
		return nil, failed("%s", sentence(err))
	}
	defer c.Close()
	var entries []ldap.DirectoryUser
	err = c.Users(ctx, func(u ldap.DirectoryUser) error {
		entries = append(entries, u)
		if len(entries)%syncBatch != 0 {
			return nil
		}
		r.ds.Seen, r.ds.UpdatedAt = len(entries), r.s.now()
		return r.s.store.SaveDirectorySync(ctx, r.ds)
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, failed("Reading the users stopped: %s", sentence(err))
	}
	r.ds.Seen, r.ds.Total = len(entries), len(entries)
	return entries, nil
}

// sentence is an error as the end of a sentence.
func sentence(err error) string {
	s := err.Error()
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return s
}

// existing returns every user of the directory in Onramp.
func (r *syncRun) existing(ctx context.Context) ([]models.SDPUser, error) {
	var all []models.SDPUser
	var after int64
	for {
		page, err := r.s.store.DirectoryUsersAfter(ctx, r.d.AccountID, r.d.ID, after, 5000)
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if len(page) < 5000 {
			return all, nil
		}
		after = page[len(page)-1].ID
	}
}

// plan is what a sync will do.
type plan struct {
	valid     []entry // the directory's usable entries
	creates   []users.DirectoryProfile
	updates   []change
	deletes   []int64
	unchanged int
	skipped   map[string][]string // why -> which entries (emails or DNs)
}

type entry struct {
	user    ldap.DirectoryUser
	profile users.DirectoryProfile
}

// change is an update with the count it goes to.
type change struct {
	users.DirectoryUpdate
	kind changeKind
}

type changeKind int

const (
	kindUpdated changeKind = iota
	kindDisabled
)

// Reasons an entry is skipped, as the Finished event and the page say them.
const (
	skipNoID       = "no stable id"
	skipNoEmail    = "no usable email"
	skipDuplicate  = "an email another entry of the directory has"
	skipOtherUser  = "an email a user of another origin (Manual or another directory) has"
	skipEmailTaken = "an email change to an address another user has (the rest was synced, the old email kept)"
)

func (p *plan) skip(why, who string) {
	if p.skipped == nil {
		p.skipped = map[string][]string{}
	}
	p.skipped[why] = append(p.skipped[why], who)
}

func (p *plan) skipCount() int {
	n := 0
	for _, who := range p.skipped {
		n += len(who)
	}
	return n
}

// skipText says why entries were skipped, naming the first few.
func (p *plan) skipText() string {
	whys := make([]string, 0, len(p.skipped))
	for why := range p.skipped {
		whys = append(whys, why)
	}
	sort.Strings(whys)
	parts := make([]string, len(whys))
	for i, why := range whys {
		who := p.skipped[why]
		names := who[:min(len(who), 3)]
		more := ""
		if len(who) > 3 {
			more = fmt.Sprintf(" and %d more", len(who)-3)
		}
		parts[i] = fmt.Sprintf("%d with %s: %s%s", len(who), why, strings.Join(names, ", "), more)
	}
	return text.Shorten(strings.Join(parts, "; "), 1000)
}

// profile is the directory's view of an entry, valid for the console: missing names come
// from the email, a phone the console would refuse is left out, overlong names are cut.
func profile(u ldap.DirectoryUser) (users.DirectoryProfile, bool) {
	id := u.ID
	p := users.DirectoryProfile{CreateInput: users.CreateInput{FirstName: cut(u.FirstName), LastName: cut(u.LastName), Email: u.Email, Phone: u.Phone},
		ExternalID: &id, Active: !u.Disabled}
	p.Email = models.NormalizeEmail(p.Email)
	if models.ValidateEmail(p.Email) != "" {
		return p, false
	}
	fillNames(&p, "")
	if err := p.Validate(); err != nil {
		p.Phone = ""
		return p, p.Validate() == nil
	}
	return p, true
}

func cut(name string) string {
	name = strings.TrimSpace(name)
	if r := []rune(name); len(r) > 100 {
		return string(r[:100])
	}
	return name
}

// plan matches the entries to the directory's users by stable id, then, for a new id, by
// email to a user whose own id has left the directory (an identity takeover).
func (r *syncRun) plan(ctx context.Context, entries []ldap.DirectoryUser, existing []models.SDPUser) (*plan, error) {
	p := &plan{}
	byID := make(map[string]*models.SDPUser, len(existing))
	for i := range existing {
		if u := &existing[i]; u.ExternalID != nil {
			byID[*u.ExternalID] = u
		}
	}
	seenID := make(map[string]bool, len(entries))
	seenEmail := make(map[string]bool, len(entries))
	for _, e := range entries {
		switch pr, ok := profile(e); {
		case e.ID == "":
			p.skip(skipNoID, e.DN)
		case seenID[e.ID]:
			continue // the same entry twice (a referral or a search that returned it again)
		case !ok:
			p.skip(skipNoEmail, e.DN)
		case seenEmail[pr.Email]:
			p.skip(skipDuplicate, pr.Email)
		default:
			seenID[e.ID], seenEmail[pr.Email] = true, true
			p.valid = append(p.valid, entry{user: e, profile: pr})
		}
	}
	// Who has each email the entries bring, in the whole account.
	owner, err := r.owners(ctx, p.valid)
	if err != nil {
		return nil, err
	}
	claimed := make(map[int64]bool, len(existing))
	var fresh []entry
	for _, e := range p.valid {
		if u, ok := byID[e.user.ID]; ok {
			claimed[u.ID] = true
			continue
		}
		fresh = append(fresh, e)
	}
	for _, e := range p.valid {
		u, ok := byID[e.user.ID]
		if !ok {
			continue
		}
		pr := e.profile
		if o, ok := owner[pr.Email]; ok && o.ID != u.ID {
			pr.Email = u.Email
			p.skip(skipEmailTaken, e.profile.Email)
		}
		r.compare(p, u, pr, "")
	}
	for _, e := range fresh {
		o, ok := owner[e.profile.Email]
		switch {
		case !ok:
			p.creates = append(p.creates, e.profile)
		case o.DirectoryID == nil || *o.DirectoryID != r.d.ID:
			p.skip(skipOtherUser, e.profile.Email)
		case claimed[o.ID]:
			p.skip(skipDuplicate, e.profile.Email)
		default:
			claimed[o.ID] = true
			old := "(none)"
			if o.ExternalID != nil {
				old = *o.ExternalID
			}
			r.compare(p, o, e.profile, old)
		}
	}
	for i := range existing {
		if !claimed[existing[i].ID] {
			p.deletes = append(p.deletes, existing[i].ID)
		}
	}
	return p, nil
}

// owners returns the users of the account that have the emails of es, by email.
func (r *syncRun) owners(ctx context.Context, es []entry) (map[string]*models.SDPUser, error) {
	owner := make(map[string]*models.SDPUser, len(es))
	for start := 0; start < len(es); start += syncBatch {
		emails := make([]string, 0, syncBatch)
		for _, e := range es[start:min(start+syncBatch, len(es))] {
			emails = append(emails, e.profile.Email)
		}
		us, err := r.s.store.UsersByEmails(ctx, r.d.AccountID, emails)
		if err != nil {
			return nil, err
		}
		for i := range us {
			owner[us[i].Email] = &us[i]
		}
	}
	return owner, nil
}

// compare plans the update of u to the directory's profile pr (takenOver: the identity a new
// one replaces), or counts u unchanged.
func (r *syncRun) compare(p *plan, u *models.SDPUser, pr users.DirectoryProfile, takenOver string) {
	enabled := u.Status == models.UserEnabled
	same := u.FirstName == pr.FirstName && u.LastName == pr.LastName && u.Email == pr.Email && u.Phone == pr.Phone &&
		enabled == pr.Active && takenOver == ""
	if same {
		p.unchanged++
		return
	}
	pr.UserName = u.UserName
	c := change{DirectoryUpdate: users.DirectoryUpdate{ID: u.ID, Profile: pr, TakenOverFrom: takenOver}}
	if enabled && !pr.Active {
		c.kind = kindDisabled
	}
	p.updates = append(p.updates, c)
}

// checkLimits stops a sync that would disable and delete more users than the directory's
// safety limits allow, unless an admin approved it. A restarted sync counts what its earlier
// attempts already did.
func (r *syncRun) checkLimits(p *plan, current int) error {
	if r.ds.Approved {
		return nil
	}
	disables := r.ds.Disabled
	for _, c := range p.updates {
		if c.kind == kindDisabled {
			disables++
		}
	}
	deletes := r.ds.Deleted + len(p.deletes)
	base := current + r.ds.Deleted
	n := disables + deletes
	var limit string
	switch {
	case r.l.LimitCount > 0 && n > r.l.LimitCount:
		limit = fmt.Sprintf("%d users", r.l.LimitCount)
	case r.l.LimitPercent > 0 && n*100 > r.l.LimitPercent*base:
		limit = fmt.Sprintf("%d%% of the directory's %d users", r.l.LimitPercent, base)
	default:
		return nil
	}
	return &syncStop{status: models.SyncBlocked,
		reason: fmt.Sprintf("Safety limit: this sync would disable %d and delete %d users (%d in all), over the limit of %s. Nothing was changed; an admin can approve this sync once on the Directory Sync tab (or raise the limit).",
			disables, deletes, n, limit),
		details: map[string]string{"limit": limit, "would_disable": strconv.Itoa(disables), "would_delete": strconv.Itoa(deletes)}}
}

// apply commits the plan in batches, each with the sync's counts so far.
func (r *syncRun) apply(ctx context.Context, p *plan) error {
	ds := r.ds
	// Counts of earlier attempts: users they changed are unchanged to this one.
	redone := ds.Created + ds.Updated + ds.Disabled
	ds.Skipped, ds.SkipReasons = p.skipCount(), ""
	if ds.Skipped > 0 {
		ds.SkipReasons = p.skipText()
	}
	ds.Unchanged = max(0, p.unchanged-redone)
	creates, updates, deletes := p.creates, p.updates, p.deletes
	for {
		var b users.DirectoryBatch
		room := syncBatch
		take := min(room, len(creates))
		b.Create, creates, room = creates[:take], creates[take:], room-take
		take = min(room, len(updates))
		batchUpdates := updates[:take]
		updates, room = updates[take:], room-take
		take = min(room, len(deletes))
		b.Delete, deletes = deletes[:take], deletes[take:]
		for _, c := range batchUpdates {
			b.Update = append(b.Update, c.DirectoryUpdate)
		}
		err := r.s.store.Tx(ctx, func(tx *store.Store) error {
			if err := r.s.users.ApplyDirectoryBatch(ctx, tx, r.d, b); err != nil {
				return err
			}
			ds.Created += len(b.Create)
			ds.Deleted += len(b.Delete)
			for _, c := range batchUpdates {
				if c.kind == kindDisabled {
					ds.Disabled++
				} else {
					ds.Updated++
				}
			}
			ds.UpdatedAt = r.s.now()
			return tx.SaveDirectorySync(ctx, ds)
		})
		if err != nil {
			return err
		}
		if len(creates)+len(updates)+len(deletes) == 0 {
			return nil
		}
	}
}
