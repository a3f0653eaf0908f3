package codes

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strconv"
	"strings"
	"time"

	"onramp/models"
	"onramp/models/mail"
	"onramp/models/store"
)

// Codes reach the person. Whoever generates codes for some users gets them in a handout: its
// result page shows each code once (then the page is gone: a reload shows nothing), and its CSV
// downloads once, for that admin only. The codes stay sealed in their rows meanwhile, so a
// handout holds no secret of its own; codes used, revoked or expired since drop out of it.
// email_code mails each user their code through the outbox instead.

// ShowLimit is the most codes a result page shows (a page of users); a larger handout is
// handed over as its CSV.
const ShowLimit = 50

// Mailer queues registration code emails inside the caller's transaction (models/mail).
type Mailer interface {
	QueueCodes(ctx context.Context, tx *store.Store, ms []mail.CodeMail) error
}

// EnrollLink is the link the VPN client registers with:
// onramp://enroll?server=<base URL>&account=<account>&code=<code>.
func EnrollLink(baseURL, account, code string) string {
	return "onramp://enroll?" + enrollQuery(baseURL, account, code)
}

// EnrollPage is the server's /enroll page for the same code, for a phone without the client.
func EnrollPage(baseURL, account, code string) string {
	return strings.TrimRight(baseURL, "/") + "/enroll?" + enrollQuery(baseURL, account, code)
}

// enrollQuery keeps the order people read: server, account, code.
func enrollQuery(baseURL, account, code string) string {
	return "server=" + url.QueryEscape(strings.TrimRight(baseURL, "/")) + "&account=" + url.QueryEscape(account) + "&code=" + url.QueryEscape(code)
}

// NewHandout opens a handout for the admin inside tx, the transaction that generates its
// codes; runID names the background Users action that fills it, if any, and emailed says that
// the codes are mailed too (email_code).
func (s *Service) NewHandout(ctx context.Context, tx *store.Store, admin *models.Admin, runID *int64, emailed bool) (int64, error) {
	h := &models.CodeHandout{AccountID: admin.AccountID, AdminID: admin.ID, RunID: runID, Emailed: emailed, CreatedAt: s.now()}
	return h.ID, tx.CreateHandout(ctx, h)
}

// HandoutForRun is the handout a background Users action of the actor fills; another admin's
// run has none for them (models.ErrNotFound).
func (s *Service) HandoutForRun(ctx context.Context, actor *models.Admin, runID int64) (*models.CodeHandout, error) {
	h, err := s.store.HandoutForRun(ctx, actor.AccountID, runID)
	if err == nil && h.AdminID != actor.ID {
		return nil, models.ErrNotFound
	}
	return h, err
}

// Handed is a code of a handout as its result page shows it, once.
type Handed struct {
	Name, Email string
	Code        string // XXXX-XXXX-XXXX-XXXX
	ExpiresAt   time.Time
	EnrollLink  string
	EnrollPage  string
}

// Handout is what a result page shows: the codes, or (more than ShowLimit) only that there are
// more, for the CSV.
type Handout struct {
	ID                             int64
	Generated, Skipped, SkippedMFA int  // what the generation did
	Emailed                        bool // the codes were mailed too
	Server                         string
	Codes                          []Handed
	More                           bool // over ShowLimit codes: the page offers the CSV instead
	Downloaded                     bool // the CSV was downloaded already
}

// ShowHandout opens the actor's handout for its result page, once: the first call returns its
// active codes and records them shown (to the user page's timeline), any later call is
// models.ErrGone. A handout of more than ShowLimit codes is not taken: its page offers the CSV.
func (s *Service) ShowHandout(ctx context.Context, actor *models.Admin, id int64) (Handout, error) {
	return s.showHandout(ctx, actor, id, ShowLimit)
}

// HandOver is ShowHandout for the admin API: every code of the handout, however many (a
// handout of the API holds at most a request's users: users.InRequestLimit).
func (s *Service) HandOver(ctx context.Context, actor *models.Admin, id int64) (Handout, error) {
	return s.showHandout(ctx, actor, id, 0)
}

// showHandout takes the handout's codes: more than limit (0: no limit) are not taken.
func (s *Service) showHandout(ctx context.Context, actor *models.Admin, id int64, limit int) (Handout, error) {
	h, err := s.store.Handout(ctx, actor.AccountID, actor.ID, id)
	if err != nil {
		return Handout{}, err
	}
	out := Handout{ID: h.ID, Generated: h.Generated, Skipped: h.Skipped, SkippedMFA: h.SkippedMFA, Emailed: h.Emailed,
		Server: s.baseURL, Downloaded: h.DownloadedAt != nil}
	account, err := s.store.Account(ctx, actor.AccountID)
	if err != nil {
		return Handout{}, err
	}
	now := s.now()
	rows, err := s.handoutRows(ctx, actor.AccountID, id, now, limit)
	if err != nil {
		return Handout{}, err
	}
	if limit > 0 && len(rows) > limit {
		out.More = true
		return out, nil
	}
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		if err := tx.TakeHandout(ctx, actor.AccountID, actor.ID, id, store.HandoutShow, now); err != nil {
			return err
		}
		ids := make([]int64, 0, len(rows))
		for _, r := range rows {
			code, err := s.sealer.Open(actor.AccountID, r.Encrypted)
			if err != nil {
				continue // sealed under another ONRAMP_SECRET: nothing to show
			}
			c := Format(code)
			out.Codes = append(out.Codes, Handed{Name: strings.TrimSpace(r.FirstName + " " + r.LastName), Email: r.Email, Code: c,
				ExpiresAt: r.ExpiresAt.UTC(), EnrollLink: EnrollLink(s.baseURL, account.Name, c), EnrollPage: EnrollPage(s.baseURL, account.Name, c)})
			ids = append(ids, r.ID)
		}
		return tx.MarkCodesDelivered(ctx, actor.AccountID, ids, store.DeliveredShown, now)
	})
	if err != nil {
		return Handout{}, err
	}
	return out, nil
}

// handoutRows reads the handout's active codes: limit+1 at most, or all of them (limit 0).
func (s *Service) handoutRows(ctx context.Context, accountID, id int64, now time.Time, limit int) ([]store.CodeExportRow, error) {
	if limit > 0 {
		return s.store.HandoutCodesAfter(ctx, accountID, id, now, 0, limit+1)
	}
	var all []store.CodeExportRow
	for {
		var after int64
		if len(all) > 0 {
			after = all[len(all)-1].ID
		}
		rows, err := s.store.HandoutCodesAfter(ctx, accountID, id, now, after, batchSize)
		if err != nil || len(rows) < batchSize {
			return append(all, rows...), err
		}
		all = append(all, rows...)
	}
}

// HandoutFilename is the attachment name of a handout's CSV.
func (s *Service) HandoutFilename(accountName string, id int64) string {
	return "registration-codes-" + accountName + "-" + s.now().Format("2006-01-02") + "-" + strconv.FormatInt(id, 10) + ".csv"
}

// WriteHandoutCSV writes the active codes of the actor's handout as the codes CSV does (same
// columns, same escaping), once: a second download is models.ErrGone, another admin's handout
// models.ErrNotFound. Helpdesk agents download their own handouts this way, and no other code.
func (s *Service) WriteHandoutCSV(ctx context.Context, actor *models.Admin, ip string, id int64, w io.Writer, flush func() error) (int, error) {
	if err := s.store.TakeHandout(ctx, actor.AccountID, actor.ID, id, store.HandoutDownload, s.now()); err != nil {
		return 0, err
	}
	return s.writeCSV(ctx, actor, ip, w, flush, map[string]string{"handout_id": strconv.FormatInt(id, 10)},
		func(now time.Time, after int64) ([]store.CodeExportRow, error) {
			return s.store.HandoutCodesAfter(ctx, actor.AccountID, id, now, after, exportBatch)
		})
}

// EmailForUsers generates one code for each enabled user without MFA of us, inside tx (the
// Users Actions' one), and mails it to them through the outbox in the same transaction, with
// a Sent event each; the codes go to the admin's handout too, if any.
func (s *Service) EmailForUsers(ctx context.Context, tx *store.Store, account *models.Account, us []models.SDPUser, in Issue) (Result, error) {
	if s.mailer == nil {
		return Result{}, errors.New("codes: no mailer configured")
	}
	ok, r := eligible(us)
	in.Emailed = true
	cs, err := s.issue(ctx, tx, account, ok, generatedBy(in.Who), in)
	if err := s.count(ctx, tx, account, in, r, err); err != nil || len(cs) == 0 {
		return r, err
	}
	ms := make([]mail.CodeMail, len(cs))
	evs := make([]*models.Event, len(cs))
	for i, c := range cs {
		ms[i] = mail.CodeMail{AccountID: account.ID, SDPUserID: c.user.ID, AccountName: account.Name, To: c.user.Email,
			FirstName: c.user.FirstName, Server: strings.TrimRight(s.baseURL, "/"), Code: c.code,
			EnrollLink: EnrollLink(s.baseURL, account.Name, c.code), EnrollPage: EnrollPage(s.baseURL, account.Name, c.code), ExpiresAt: c.expiresAt}
		evs[i] = models.UserEvent(c.user, models.EventCode, models.SubCodeSent, in.Who,
			map[string]string{"code_id": strconv.FormatInt(c.id, 10), "to": c.user.Email})
	}
	if err := s.mailer.QueueCodes(ctx, tx, ms); err != nil {
		return r, err
	}
	return r, tx.CreateEvents(ctx, evs)
}
