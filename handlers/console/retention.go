package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/retention"
	"onramp/views"
	retentionpages "onramp/views/pages/retention"
)

// RetentionPage serves GET /settings/retention.
func (h *Handler) RetentionPage(c echo.Context) error {
	s, err := h.Retention.Get(c.Request().Context(), current(c).Admin)
	if err != nil {
		return err
	}
	return web.Render(c, http.StatusOK, retentionpages.Page(h.page(c, "Data Retention", "retention"),
		retentionForm(strconv.Itoa(s.EventDays), strconv.Itoa(s.MailBodyDays))))
}

func retentionForm(eventDays, mailBodyDays string) retentionpages.Form {
	days := func(n int) string { return models.Plural(int64(n), "day", "days") }
	return retentionpages.Form{EventDays: eventDays, MailBodyDays: mailBodyDays,
		EventRange:      fmt.Sprintf("%d to %s", models.MinEventRetentionDays, days(models.MaxEventRetentionDays)),
		MailBodyRange:   fmt.Sprintf("%d to %s", models.MinMailBodyRetentionDays, days(models.MaxMailBodyRetentionDays)),
		EventDefault:    days(models.DefaultEventRetentionDays),
		MailBodyDefault: days(models.DefaultMailBodyRetentionDays)}
}

// RetentionSave serves POST /settings/retention.
func (h *Handler) RetentionSave(c echo.Context) error {
	var f forms.Retention
	if err := c.Bind(&f); err != nil {
		return err
	}
	s, err := parseRetention(f)
	if err == nil {
		var changed bool
		if changed, err = h.Retention.Save(c.Request().Context(), current(c).Admin, c.RealIP(), s); err == nil {
			msg := "No change to save."
			if changed {
				msg = "Data Retention settings saved."
			}
			return h.flashRedirect(c, views.FlashSuccess, msg, c.Echo().Reverse("retention"))
		}
	}
	var ve *models.ValidationError
	if !errors.As(err, &ve) {
		return err
	}
	form := retentionForm(f.EventDays, f.MailBodyDays)
	form.Errors = ve.Fields
	return web.Render(c, http.StatusUnprocessableEntity, retentionpages.Page(h.page(c, "Data Retention", "retention"), form))
}

// parseRetention reads the form's whole numbers of days; the service checks their limits.
func parseRetention(f forms.Retention) (retention.Settings, error) {
	v := &models.ValidationError{}
	num := func(field, value string) int {
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil {
			v.Add(field, "Enter a whole number of days.")
		}
		return n
	}
	s := retention.Settings{EventDays: num("event_retention_days", f.EventDays), MailBodyDays: num("mail_body_retention_days", f.MailBodyDays)}
	return s, v.OrNil()
}
