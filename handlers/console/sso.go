package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/sso"
	"onramp/views"
	ssopages "onramp/views/pages/ssopage"
)

// SSOPage serves GET /access/directory-services/sso (the Single Sign-On tab).
func (h *Handler) SSOPage(c echo.Context) error {
	s, err := h.SSO.Settings(c.Request().Context(), current(c).Account.ID)
	if err != nil {
		return err
	}
	return h.renderSSO(c, http.StatusOK, ssoForm(s), ssopages.Test{})
}

func ssoForm(s sso.Settings) ssopages.Form {
	return ssopages.Form{Enabled: s.Enabled, Issuer: s.Issuer, ClientID: s.ClientID, HasSecret: s.HasSecret, Scopes: s.Scopes,
		EmailClaim: s.EmailClaim, NoEmailVerified: s.NoEmailVerified, GroupsClaim: s.GroupsClaim, CreateUsers: s.CreateUsers}
}

func (h *Handler) renderSSO(c echo.Context, status int, f ssopages.Form, t ssopages.Test) error {
	f.RedirectURI = h.SSO.RedirectURI()
	return web.Render(c, status, ssopages.Page(h.page(c, "Single Sign-On", "provisioning"), f, t))
}

// bindSSO reads the form; the form as typed (never the secret) is returned for re-rendering.
func (h *Handler) bindSSO(c echo.Context) (sso.Input, ssopages.Form, error) {
	var f forms.SSO
	if err := c.Bind(&f); err != nil {
		return sso.Input{}, ssopages.Form{}, err
	}
	in := sso.Input{Enabled: f.Enabled == "on", Issuer: f.Issuer, ClientID: f.ClientID, ClientSecret: f.ClientSecret, Scopes: f.Scopes,
		EmailClaim: f.EmailClaim, NoEmailVerified: f.NoEmailVerified == "on", GroupsClaim: f.GroupsClaim, CreateUsers: f.CreateUsers == "on"}
	saved, err := h.SSO.Settings(c.Request().Context(), current(c).Account.ID)
	if err != nil {
		return sso.Input{}, ssopages.Form{}, err
	}
	return in, ssopages.Form{Enabled: in.Enabled, Issuer: in.Issuer, ClientID: in.ClientID, HasSecret: saved.HasSecret, Scopes: in.Scopes,
		EmailClaim: in.EmailClaim, NoEmailVerified: in.NoEmailVerified, GroupsClaim: in.GroupsClaim, CreateUsers: in.CreateUsers}, nil
}

// SSOSave serves POST /access/directory-services/sso.
func (h *Handler) SSOSave(c echo.Context) error {
	in, form, err := h.bindSSO(c)
	if err != nil {
		return err
	}
	cur := current(c)
	changed, err := h.SSO.Save(c.Request().Context(), cur.Account.ID, models.AdminActor(cur.Admin, c.RealIP()), in)
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		form.Errors = ve.Fields
		return h.renderSSO(c, http.StatusUnprocessableEntity, form, ssopages.Test{})
	case err != nil:
		return err
	}
	msg := "No change to save."
	if changed {
		msg = "Single Sign-On settings saved."
	}
	return h.flashRedirect(c, views.FlashSuccess, msg, c.Echo().Reverse("sso"))
}

// SSOTest serves POST /access/directory-services/sso/test: discovery of the issuer in the form
// (nothing is saved), and the page again with what it found.
func (h *Handler) SSOTest(c echo.Context) error {
	in, form, err := h.bindSSO(c)
	if err != nil {
		return err
	}
	t := ssopages.Test{Ran: true}
	d, err := h.SSO.Discover(c.Request().Context(), in.Issuer)
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		t.Error = ve.Fields["issuer"]
	case err != nil:
		msg := err.Error()
		if len(msg) > 300 { // a provider's error page comes back in full
			msg = msg[:300] + "…"
		}
		t.Error = "The provider's discovery document could not be read: " + msg
	default:
		t = ssopages.Test{Ran: true, Issuer: d.Issuer, AuthURL: d.AuthorizationURL, TokenURL: d.TokenURL, JWKSURL: d.JWKSURL,
			UserInfoURL: d.UserInfoURL, PKCE: d.PKCES256, Scopes: strings.Join(d.Scopes, " "), Claims: strings.Join(d.Claims, " ")}
	}
	return h.renderSSO(c, http.StatusOK, form, t)
}
