package console

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/apitokens"
	"onramp/views"
	"onramp/views/components"
	tokenpages "onramp/views/pages/apitokens"
)

// scopeHints say what each scope lets a token do, on the create form.
var scopeHints = map[models.Scope]string{
	models.ScopeUsersRead:     "List and read users.",
	models.ScopeUsersWrite:    "Create, change and delete users; run the Users actions.",
	models.ScopeCodesWrite:    "Generate registration codes (returned once) and revoke them.",
	models.ScopeCodesRead:     "Download the CSV of every active code.",
	models.ScopeDevicesWrite:  "List devices and sign them out.",
	models.ScopeEventsRead:    "Search and export events.",
	models.ScopeSettingsRead:  "Read the provisioning settings.",
	models.ScopeSettingsWrite: "Change the provisioning settings (with the console's rules).",
}

// lifetimes are the create form's expiry choices (apitokens.ParseExpiry reads them).
var lifetimes = []tokenpages.Choice{{Value: "30d", Label: "30 days"}, {Value: "90d", Label: "90 days"},
	{Value: "365d", Label: "1 year"}, {Value: "7d", Label: "7 days"}, {Value: "", Label: "Never"}}

// APITokensList serves GET /settings/api-tokens.
func (h *Handler) APITokensList(c echo.Context) error {
	return h.renderAPITokens(c, http.StatusOK, tokenpages.Form{Expires: lifetimes[0].Value})
}

func (h *Handler) renderAPITokens(c echo.Context, status int, form tokenpages.Form) error {
	ts, err := h.Tokens.List(c.Request().Context(), current(c).Admin)
	if err != nil {
		return err
	}
	v := tokenpages.List{Form: form, Lifetime: lifetimes, DocsURL: c.Echo().Reverse("api.openapi")}
	for _, s := range models.Scopes {
		v.Scopes = append(v.Scopes, tokenpages.Choice{Value: string(s), Label: string(s), Hint: scopeHints[s]})
	}
	now := h.Tokens.Now()
	for _, t := range ts {
		r := tokenpages.Row{ID: t.ID, Name: t.Name, Created: t.CreatedAt.UTC().Format(web.TimeLayout) + " UTC",
			Expires: "Never", LastUsed: "Never", State: "active", StateText: "Active"}
		for _, s := range t.ScopeList() {
			r.Scopes = append(r.Scopes, string(s))
		}
		if t.ExpiresAt != nil {
			r.Expires = optTime(t.ExpiresAt)
		}
		if t.LastUsedAt != nil {
			r.LastUsed = optTime(t.LastUsedAt) + " from " + t.LastUsedIP
		}
		switch {
		case t.RevokedAt != nil:
			r.State, r.StateText = "revoked", "Revoked"
		case !t.Live(now):
			r.State, r.StateText = "expired", "Expired"
		}
		v.Rows = append(v.Rows, r)
	}
	return web.Render(c, status, tokenpages.Page(h.page(c, "API tokens", "apitokens"), v))
}

// APITokensCreate serves POST /settings/api-tokens: the new token is rendered, once, never
// redirected to (it must not sit in a URL or a cookie).
func (h *Handler) APITokensCreate(c echo.Context) error {
	var f forms.APIToken
	if err := c.Bind(&f); err != nil {
		return err
	}
	exp, err := apitokens.ParseExpiry(f.Expires)
	var tok string
	var t *models.APIToken
	if err == nil {
		tok, t, err = h.Tokens.Create(c.Request().Context(), current(c).Admin, c.RealIP(),
			apitokens.CreateInput{Name: f.Name, Scopes: f.Scopes, ExpiresIn: exp})
	}
	var ve *models.ValidationError
	switch {
	case errors.As(err, &ve):
		return h.renderAPITokens(c, http.StatusUnprocessableEntity, tokenpages.Form{Name: f.Name, Scopes: f.Scopes, Expires: f.Expires, Errors: ve.Fields})
	case err != nil:
		return err
	}
	c.Response().Header().Set("Cache-Control", "no-store")
	v := tokenpages.Created{Name: t.Name, Token: tok, APIURL: strings.TrimRight(h.BaseURL, "/") + "/api/v1"}
	for _, s := range t.ScopeList() {
		v.Scopes = append(v.Scopes, string(s))
	}
	return web.Render(c, http.StatusOK, tokenpages.CreatedPage(h.page(c, "API tokens", "apitokens"), v))
}

// APITokensRevoke serves POST /settings/api-tokens/:id/revoke, confirmed first.
func (h *Handler) APITokensRevoke(c echo.Context) error {
	id, err := web.ID(c, "id")
	if err != nil {
		return err
	}
	list := c.Echo().Reverse("apitokens")
	if !web.Confirmed(c) {
		return h.askConfirm(c, components.ConfirmProps{Title: "Revoke this API token?",
			Message: "Scripts using it get 401 from their next call on. This cannot be undone.",
			Action:  c.Request().URL.Path, ConfirmLabel: "Revoke token", CancelURL: list, Danger: true},
			"apitokens", "API tokens")
	}
	t, err := h.Tokens.Revoke(c.Request().Context(), current(c).Admin, c.RealIP(), id)
	if err != nil {
		return err
	}
	return h.flashRedirect(c, views.FlashSuccess, "Token "+t.Name+" revoked.", list)
}
