package emails

import (
	"context"
	"io"
	"net/url"
	"strings"

	"github.com/a-h/templ"

	"onramp/models/mail"
)

// Renderer renders the email of models/mail with templ.
type Renderer struct {
	portalURL   string
	downloadURL string
}

// NewRenderer builds a renderer for a server whose public URL is baseURL.
func NewRenderer(baseURL string) Renderer {
	return Renderer{portalURL: strings.TrimRight(baseURL, "/") + "/myvpn/login"}
}

// WithClientDownload adds where to download the VPN client (ONRAMP_CLIENT_DOWNLOAD_URL) to the
// invitations; "" leaves it out.
func (r Renderer) WithClientDownload(u string) Renderer {
	r.downloadURL = u
	return r
}

var _ mail.Renderer = Renderer{}

type invitationView struct {
	Subject, Greeting, Account, Email, Link, Expires, Portal string
	Download                                                 string // the client's download page, "" when not configured
}

type disabledView struct {
	Subject, Greeting, Account, Email string
}

// expiryLayout is unambiguous in every locale: a day name, the month in words, UTC.
const expiryLayout = "Monday 2 January 2006 at 15:04 UTC"

// Invitation renders the invitation to activate an account.
func (r Renderer) Invitation(ctx context.Context, inv mail.Invitation) (mail.Rendered, error) {
	v := invitationView{
		Subject:  "Activate your " + inv.AccountName + " VPN account",
		Greeting: greeting(inv.FirstName),
		Account:  inv.AccountName,
		Email:    inv.To,
		Link:     inv.ActivationURL,
		Expires:  inv.ExpiresAt.UTC().Format(expiryLayout),
		// The sign-in form opens with the account filled in.
		Portal:   r.portalURL + "?account=" + url.QueryEscape(inv.AccountName),
		Download: r.downloadURL,
	}
	return render(ctx, v.Subject, invitationText(v), invitationHTML(v))
}

// DisabledNotice renders the notice that a user's access was disabled.
func (r Renderer) DisabledNotice(ctx context.Context, n mail.DisabledNotice) (mail.Rendered, error) {
	v := disabledView{
		Subject:  "Your " + n.AccountName + " VPN access is disabled",
		Greeting: greeting(n.FirstName),
		Account:  n.AccountName,
		Email:    n.To,
	}
	return render(ctx, v.Subject, disabledText(v), disabledHTML(v))
}

type codeView struct {
	Subject, Greeting, Account, Email, Server, Code, EnrollLink, EnrollPage, Expires string
}

// Code renders the email that hands a user a registration code.
func (r Renderer) Code(ctx context.Context, m mail.CodeMail) (mail.Rendered, error) {
	v := codeView{
		Subject:    "Your " + m.AccountName + " VPN registration code",
		Greeting:   greeting(m.FirstName),
		Account:    m.AccountName,
		Email:      m.To,
		Server:     m.Server,
		Code:       m.Code,
		EnrollLink: m.EnrollLink,
		EnrollPage: m.EnrollPage,
		Expires:    m.ExpiresAt.UTC().Format(expiryLayout),
	}
	return render(ctx, v.Subject, codeText(v), codeHTML(v))
}

func greeting(first string) string {
	if first = strings.TrimSpace(first); first != "" {
		return "Hello " + first + ","
	}
	return "Hello,"
}

func render(ctx context.Context, subject string, text, html templ.Component) (mail.Rendered, error) {
	var t, h strings.Builder
	if err := text.Render(ctx, &t); err != nil {
		return mail.Rendered{}, err
	}
	if err := html.Render(ctx, &h); err != nil {
		return mail.Rendered{}, err
	}
	return mail.Rendered{Subject: subject, Text: t.String(), HTML: h.String()}, nil
}

// line writes one line of a plain-text part, unescaped: the text part is not HTML.
func line(parts ...string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, strings.Join(parts, "")+"\n")
		return err
	})
}
