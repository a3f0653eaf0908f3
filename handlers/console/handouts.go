package console

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/codes"
	"onramp/models/users"
	userpages "onramp/views/pages/users"
)

// The codes just generated reach the person who generated them through a handout: the result
// page shows them once, its CSV downloads once. The page is a GET after the POST's redirect
// (Post/Redirect/Get, HX-Redirect for htmx), so a reload or the back button asks the server
// again, which answers 410: the codes are never in a page the browser could show twice, and
// the POST is never sent twice.

// handoutGone is the 410 of a handout shown (or downloaded) already.
var handoutGone = echo.NewHTTPError(http.StatusGone,
	"These registration codes were shown once already and are not shown again. Users who did not get theirs need a new code: select them in Users and generate one.")

// UsersCodes serves GET /access/users/codes/:id, the codes of the admin's handout, once.
func (h *Handler) UsersCodes(c echo.Context) error {
	id, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	cur := current(c)
	web.NoReferrer(c)
	ho, err := h.Codes.ShowHandout(c.Request().Context(), cur.Admin, id)
	if errors.Is(err, models.ErrGone) {
		return handoutGone
	}
	if err != nil {
		return err
	}
	v := userpages.Handout{SkippedMFA: ho.SkippedMFA, Emailed: ho.Emailed, More: ho.More, Server: ho.Server, Account: cur.Account.Name,
		MFAURL:  c.Echo().Reverse("users.list") + users.Filter{MFA: "yes"}.Query(""),
		BackURL: c.Echo().Reverse("users.list"),
		Summary: handoutSummary(ho, !h.Outbox.Delivering())}
	if !ho.Downloaded {
		v.CSVURL = c.Echo().Reverse("users.codes.csv", ho.ID)
	}
	for _, hc := range ho.Codes {
		qr, err := web.QRDataURL(hc.EnrollLink, 200)
		if err != nil {
			return err
		}
		v.Codes = append(v.Codes, userpages.HandedCode{Name: hc.Name, Email: hc.Email, Code: hc.Code, EnrollLink: hc.EnrollLink,
			EnrollPage: hc.EnrollPage, QR: qr, Expires: hc.ExpiresAt.Format(web.TimeLayout), ExpiresISO: hc.ExpiresAt.Format(web.ISOLayout)})
	}
	return web.Render(c, http.StatusOK, userpages.HandoutPage(h.page(c, "Registration codes", "users.list"), v))
}

// handoutSummary says what the generation did, without the MFA skips (the page links them), and
// when the emails wait in the outbox (held: no SMTP server is configured).
func handoutSummary(ho codes.Handout, held bool) string {
	verb := "Generated"
	if ho.Emailed {
		verb = "Generated and emailed"
	}
	msg := fmt.Sprintf("%s a registration code for %s.", verb, models.Plural(ho.Generated, "user", "users"))
	if other := ho.Skipped - ho.SkippedMFA; other > 0 {
		msg += fmt.Sprintf(" %d skipped: disabled.", other)
	}
	if ho.Emailed && held {
		msg += " No SMTP server is configured: the emails are held in the outbox."
	}
	return msg
}

// UsersCodesCSV serves GET /access/users/codes/:id/codes.csv: the codes of the admin's handout
// as the codes CSV, once.
func (h *Handler) UsersCodesCSV(c echo.Context) error {
	id, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	cur := current(c)
	err = h.streamCSV(c, h.Codes.HandoutFilename(cur.Account.Name, id), func(w http.ResponseWriter, flush func() error) error {
		_, err := h.Codes.WriteHandoutCSV(c.Request().Context(), cur.Admin, c.RealIP(), id, w, flush)
		return err
	})
	if errors.Is(err, models.ErrGone) {
		return echo.NewHTTPError(http.StatusGone, "These registration codes were downloaded once already. Users who did not get theirs need a new code.")
	}
	return err
}
