// Package ssotest starts a real OpenID provider on a loopback port for tests: zitadel's
// OpenID-certified op package (github.com/zitadel/oidc/v3/pkg/op) over an in-memory storage of
// users, with a small login page (email and password). It answers discovery, the authorization
// code flow with PKCE, the token endpoint, JWKS and userinfo exactly as the library does; the
// Tamper knobs make it issue the tokens the negative tests need (another audience, an expired
// ID token, another nonce) through the same signing path.
package ssotest

import (
	"context"
	"crypto/rand"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"
)

// GroupsClaim is the claim that carries a user's groups (set Groups on a User).
const GroupsClaim = "groups"

// Login page field names, for browser tests.
const (
	FieldEmail    = "email"
	FieldPassword = "password"
)

const loginPath = "/login"

// User is a person who can sign in at the provider.
type User struct {
	Subject       string // "" picks a random one
	Email         string
	EmailVerified bool
	Password      string // "" means DefaultPassword
	GivenName     string
	FamilyName    string
	Groups        []string
}

// DefaultPassword is the password of users added without one.
const DefaultPassword = "correct horse battery staple"

// Tamper makes the provider issue wrong ID tokens (for the relying party's refusal tests). It
// applies to sign-ins completed after it is set.
type Tamper struct {
	// Audience replaces the ID token's aud and azp claims: the token endpoint answers with an
	// ID token signed by the provider's key for another application.
	Audience []string
	// Nonce replaces the nonce the relying party sent.
	Nonce string
	// IDTokenLifetime replaces the ID token's lifetime (one hour); negative gives an ID token
	// that has already expired.
	IDTokenLifetime time.Duration
}

// Provider is a running OpenID provider.
type Provider struct {
	// Issuer is the provider's issuer URL (discovery at Issuer + /.well-known/openid-configuration).
	Issuer       string
	ClientID     string
	ClientSecret string
	st           *storage
}

// StartProvider starts a provider on a loopback port with one confidential client (ClientID,
// ClientSecret) and stops it when the test ends. Allow the relying party's redirect URI with
// AllowRedirect before signing in.
func StartProvider(tb testing.TB) *Provider {
	tb.Helper()
	p := &Provider{ClientID: "onramp-" + strings.ToLower(rand.Text()[:8]), ClientSecret: rand.Text()}
	st, err := newStorage(p.ClientID, p.ClientSecret)
	if err != nil {
		tb.Fatal(err)
	}
	p.st = st
	srv := httptest.NewUnstartedServer(nil)
	p.Issuer = "http://" + srv.Listener.Addr().String()
	var key [32]byte
	_, _ = rand.Read(key[:])
	provider, err := op.NewProvider(&op.Config{
		CryptoKey: key, CodeMethodS256: true, AuthMethodPost: true,
		SupportedUILocales: []language.Tag{language.English},
	}, st, op.StaticIssuer(p.Issuer), op.WithAllowInsecure())
	if err != nil {
		tb.Fatal(err)
	}
	mux := http.NewServeMux()
	interceptor := op.NewIssuerInterceptor(provider.IssuerFromRequest)
	mux.Handle(loginPath, interceptor.Handler(&loginPage{st: st, callback: op.AuthCallbackURL(provider)}))
	mux.Handle("/oauth/token", &audienceTamper{st: st, next: provider})
	mux.Handle("/", provider)
	srv.Config.Handler = mux
	srv.Start()
	tb.Cleanup(srv.Close)
	return p
}

// AddUser adds a person who can sign in; it returns the user with Subject and Password set.
func (p *Provider) AddUser(u User) User {
	if u.Subject == "" {
		u.Subject = strings.ToLower(rand.Text())
	}
	if u.Password == "" {
		u.Password = DefaultPassword
	}
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.users[u.Subject] = &u
	return u
}

// AllowRedirect registers a redirect URI of the client (the provider compares them exactly).
func (p *Provider) AllowRedirect(uri string) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.client.redirectURIs = append(p.st.client.redirectURIs, uri)
}

// Tamper sets what the next sign-ins get wrong; Tamper{} puts everything right again.
func (p *Provider) Tamper(t Tamper) {
	p.st.mu.Lock()
	defer p.st.mu.Unlock()
	p.st.tamper = t
	p.st.client.lifetime = time.Hour
	if t.IDTokenLifetime != 0 {
		p.st.client.lifetime = t.IDTokenLifetime
	}
}

// SignIn plays the browser at the provider for an HTTP test: it opens authURL (the relying
// party's redirect to the provider) with client, signs in as u on the login page and returns
// the URL the provider sends the browser back to (the relying party's redirect URI with code
// and state, or with error), without opening it.
func (p *Provider) SignIn(client *http.Client, authURL string, u User) (*url.URL, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	var back *url.URL
	c := &http.Client{Jar: jar, Transport: client.Transport, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if !strings.HasPrefix(req.URL.String(), p.Issuer+"/") {
			back = req.URL
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := c.Get(authURL)
	if err != nil {
		return nil, err
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if back != nil {
		return back, nil
	}
	if !strings.HasPrefix(resp.Request.URL.Path, loginPath) {
		return nil, fmt.Errorf("ssotest: the provider answered %d instead of its login page: %s", resp.StatusCode, page)
	}
	resp, err = c.PostForm(resp.Request.URL.String(), url.Values{
		"id": {resp.Request.URL.Query().Get("id")}, FieldEmail: {u.Email}, FieldPassword: {u.Password}})
	if err != nil {
		return nil, err
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if back == nil {
		return nil, fmt.Errorf("ssotest: sign-in did not return to the relying party (%d): %s", resp.StatusCode, page)
	}
	return back, nil
}

// loginPage is the provider's sign-in form for an auth request.
type loginPage struct {
	st       *storage
	callback func(ctx context.Context, id string) string
}

var loginTmpl = template.Must(template.New("login").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Test provider: sign in</title></head>
<body><h1>Test provider</h1>
{{if .Error}}<p role="alert" data-testid="provider-error">{{.Error}}</p>{{end}}
<form method="post" action="/login">
<input type="hidden" name="id" value="{{.ID}}">
<label>Email <input type="email" name="email" id="provider-email"></label>
<label>Password <input type="password" name="password" id="provider-password"></label>
<button type="submit" id="provider-submit">Sign in</button>
</form></body></html>`))

func (l *loginPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	id := r.FormValue("id")
	if r.Method == http.MethodPost {
		err := l.st.signIn(id, r.PostFormValue(FieldEmail), r.PostFormValue(FieldPassword))
		if err == nil {
			http.Redirect(w, r, l.callback(r.Context(), id), http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusUnauthorized)
		_ = loginTmpl.Execute(w, map[string]string{"ID": id, "Error": err.Error()})
		return
	}
	if id == "" {
		http.Error(w, "no auth request", http.StatusBadRequest)
		return
	}
	_ = loginTmpl.Execute(w, map[string]string{"ID": id})
}
