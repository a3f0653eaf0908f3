package ssotest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"

	jose "github.com/go-jose/go-jose/v4"
)

// audienceTamper sits in front of the token endpoint: with Tamper.Audience set, it re-signs the
// ID token of the answer, with the provider's own key, for that audience (zitadel's op package
// always issues it for the client that asked, as a provider must).
type audienceTamper struct {
	st   *storage
	next http.Handler
}

func (a *audienceTamper) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.st.mu.Lock()
	aud := a.st.tamper.Audience
	a.st.mu.Unlock()
	if len(aud) == 0 {
		a.next.ServeHTTP(w, r)
		return
	}
	rec := httptest.NewRecorder()
	a.next.ServeHTTP(rec, r)
	var body map[string]any
	if rec.Code != http.StatusOK || json.Unmarshal(rec.Body.Bytes(), &body) != nil {
		copyResponse(w, rec)
		return
	}
	idToken, _ := body["id_token"].(string)
	if signed, err := a.reissue(idToken, aud); err == nil {
		body["id_token"] = signed
	}
	out, _ := json.Marshal(body)
	rec.Body = bytes.NewBuffer(out)
	rec.Header().Del("Content-Length")
	copyResponse(w, rec)
}

// reissue signs the claims of idToken again with aud and azp replaced.
func (a *audienceTamper) reissue(idToken string, aud []string) (string, error) {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 {
		return "", errNotFound
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		return "", err
	}
	var claims map[string]any
	if err := json.Unmarshal(raw, &claims); err != nil {
		return "", err
	}
	claims["aud"], claims["azp"] = aud, aud[0]
	payload, err := json.Marshal(claims)
	if err != nil {
		return "", err
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: a.st.key, KeyID: a.st.keyID}},
		(&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		return "", err
	}
	jws, err := signer.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func copyResponse(w http.ResponseWriter, rec *httptest.ResponseRecorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.Code)
	_, _ = w.Write(rec.Body.Bytes())
}
