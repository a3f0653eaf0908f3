package codes

import (
	"context"
	"io"
	"strconv"
	"time"

	"onramp/models"
	"onramp/models/csvsafe"
	"onramp/models/store"
)

// CSVHeader is the first row of the codes CSV. Scripts read it: the first four names are stable.
var CSVHeader = []string{"First Name", "Last Name", "Email", "Registration Code", "Expires At"}

// exportBatch is how many rows the CSV reads per query: the export holds one batch in memory
// whatever the number of codes.
const exportBatch = 1000

// ExportFilename is the attachment name of the actor's account's CSV today (UTC).
func (s *Service) ExportFilename(accountName string) string {
	return "registration-codes-" + accountName + "-" + s.now().Format("2006-01-02") + ".csv"
}

// WriteCSV writes the active codes of the actor's account (not used, not revoked, not expired)
// as CSV to w: the header, then one row per code with the code decrypted and formatted
// XXXX-XXXX-XXXX-XXXX and its expiry in RFC 3339 UTC, every cell neutralised by csvsafe. It reads
// the codes a batch at a time (keyset on the code id) and calls flush after each, so rows
// leave as they are read and memory stays flat. It returns how many codes it wrote; a
// Downloaded event records who took how many, even when the download stops half-way.
func (s *Service) WriteCSV(ctx context.Context, actor *models.Admin, ip string, w io.Writer, flush func() error) (rows int, err error) {
	if actor.Role != models.RoleAdmin {
		return 0, models.ErrForbidden
	}
	return s.writeCSV(ctx, actor, ip, w, flush, nil, func(now time.Time, after int64) ([]store.CodeExportRow, error) {
		return s.store.ActiveCodesAfter(ctx, actor.AccountID, now, after, exportBatch)
	})
}

// writeCSV writes the codes that page reads (a batch after the given id) as the codes CSV,
// records each batch's codes as delivered in a CSV, and a Downloaded event with details.
func (s *Service) writeCSV(ctx context.Context, actor *models.Admin, ip string, w io.Writer, flush func() error, details map[string]string,
	page func(now time.Time, after int64) ([]store.CodeExportRow, error)) (rows int, err error) {
	undecryptable, sent := 0, false
	defer func() {
		if !sent {
			return // nothing left the server: the caller answers with an error page
		}
		if details == nil {
			details = map[string]string{}
		}
		details["rows"] = strconv.Itoa(rows)
		if err != nil {
			details["complete"] = "no"
		}
		if undecryptable > 0 {
			details["undecryptable"] = strconv.Itoa(undecryptable)
		}
		// The download happened even if the client went away: record it regardless.
		e := models.NewEvent(&actor.AccountID, models.EventCode, models.SubCodesDownload, models.AdminActor(actor, ip), "", details)
		if eerr := s.store.RecordEvent(ctx, e); eerr != nil {
			s.log.Error("recording a registration codes download", "account_id", actor.AccountID, "error", eerr)
		}
	}()

	now := s.now()
	cw := csvsafe.NewWriter(w)
	if err := cw.Write(CSVHeader...); err != nil {
		return 0, err
	}
	var after int64
	for {
		batch, err := page(now, after)
		if err != nil {
			return rows, err
		}
		ids := make([]int64, 0, len(batch))
		for _, r := range batch {
			code, err := s.sealer.Open(actor.AccountID, r.Encrypted)
			if err != nil {
				// Sealed under another ONRAMP_SECRET: there is nothing to show. Counted, never guessed at.
				undecryptable++
				continue
			}
			if err := cw.Write(r.FirstName, r.LastName, r.Email, Format(code), r.ExpiresAt.UTC().Format(time.RFC3339)); err != nil {
				return rows, err
			}
			ids = append(ids, r.ID)
			rows++
		}
		sent = true
		if err := cw.Flush(); err != nil {
			return rows, err
		}
		if err := flush(); err != nil {
			return rows, err
		}
		if err := s.store.MarkCodesDelivered(ctx, actor.AccountID, ids, store.DeliveredCSV, now); err != nil {
			return rows, err
		}
		if len(batch) < exportBatch {
			break
		}
		after = batch[len(batch)-1].ID
	}
	if undecryptable > 0 {
		s.log.Warn("registration codes that do not decrypt were left out of a CSV (was ONRAMP_SECRET changed?)",
			"account_id", actor.AccountID, "count", undecryptable)
	}
	return rows, nil
}
