package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/helpers"

	"onramp/handlers/api"
	"onramp/models"
	"onramp/models/apitokens"
)

// openAPIValidator checks requests and responses of the admin API against openapi.json (a
// well-kept validator: pb33f's libopenapi-validator, which reads OpenAPI 3.1).
var openAPIValidator = sync.OnceValues(func() (validator.Validator, error) {
	doc, err := libopenapi.NewDocument(api.Document)
	if err != nil {
		return nil, err
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		return nil, errs[0]
	}
	return v, nil
})

// adminResult is an answer of the admin API.
type adminResult struct {
	status int
	header http.Header
	raw    string
}

// json decodes the body into v.
func (r adminResult) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal([]byte(r.raw), v); err != nil {
		t.Fatalf("%d, not JSON: %v: %.300s", r.status, err, r.raw)
	}
}

// problem decodes a problem+json body, checking its media type and its status.
func (r adminResult) problem(t testing.TB, status int, name string) api.Problem {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); ct != api.ContentTypeProblem {
		t.Fatalf("Content-Type %q, want %s: %s", ct, api.ContentTypeProblem, r.raw)
	}
	var p api.Problem
	r.json(t, &p)
	if p.Status != status || p.Title == "" || (name != "" && p.Type != api.ProblemType(name)) {
		t.Fatalf("problem %+v, want status %d of type %s", p, status, name)
	}
	return p
}

func (r adminResult) expect(t testing.TB, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %.500s", r.status, status, r.raw)
	}
}

// adminCall calls the admin API with a token (body: nil, a string, or a value sent as JSON) and
// checks the request and the response against openapi.json.
func (a *testApp) adminCall(method, path, token string, body any, header ...string) adminResult {
	a.t.Helper()
	r, err := a.adminDo(method, path, token, body, header...)
	if err != nil {
		a.t.Fatal(err)
	}
	return r
}

// adminDo is adminCall for goroutines: it returns errors rather than ending the test.
func (a *testApp) adminDo(method, path, token string, body any, header ...string) (adminResult, error) {
	var raw []byte
	switch b := body.(type) {
	case nil:
	case string:
		raw = []byte(b)
	default:
		raw, _ = json.Marshal(b)
	}
	newReq := func() *http.Request {
		req, _ := http.NewRequest(method, a.srv.URL+path, bytes.NewReader(raw))
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		return req
	}
	res, err := apiHTTP.Do(newReq())
	if err != nil {
		return adminResult{}, err
	}
	defer res.Body.Close()
	got, err := io.ReadAll(res.Body)
	if err != nil {
		return adminResult{}, err
	}
	out := adminResult{status: res.StatusCode, header: res.Header, raw: string(got)}
	v, err := openAPIValidator()
	if err != nil {
		return out, err
	}
	if res.Header.Get("Content-Type") == api.ContentTypeNDJSON {
		return out, nil // many JSON values, which the validator reads as one: the test decodes each line
	}
	res.Body = io.NopCloser(bytes.NewReader(got))
	if ok, errs := v.ValidateHttpResponse(newReq(), res); !ok && res.StatusCode < 500 {
		if res.StatusCode == http.StatusNotFound && len(errs) == 1 && errs[0].ValidationType == helpers.PathValidation {
			return out, nil // an address the document does not have: nothing to check the answer against
		}
		var msgs []string
		for _, e := range errs {
			msgs = append(msgs, e.Error())
			for _, se := range e.SchemaValidationErrors {
				msgs = append(msgs, "  "+se.Error())
			}
		}
		return out, &openAPIMismatch{method: method, path: path, status: res.StatusCode, msgs: msgs, body: string(got)}
	}
	return out, nil
}

type openAPIMismatch struct {
	method, path string
	status       int
	msgs         []string
	body         string
}

func (e *openAPIMismatch) Error() string {
	return e.method + " " + e.path + ": the " + http.StatusText(e.status) + " response does not match openapi.json:\n" +
		strings.Join(e.msgs, "\n") + "\nbody: " + snippet(e.body)
}

// apiToken creates an API token of the account (created when missing, with an admin) with
// the given scopes and returns it.
func (a *testApp) apiToken(account string, scopes ...models.Scope) string {
	a.t.Helper()
	tok, _ := a.apiTokenExpiring(account, 0, scopes...)
	return tok
}

func (a *testApp) apiTokenExpiring(account string, expires time.Duration, scopes ...models.Scope) (string, *models.APIToken) {
	a.t.Helper()
	ctx := context.Background()
	if acc, err := a.store.AccountByName(ctx, account); err != nil {
		a.createAdmin(account, "owner@"+account+".test", models.RoleAdmin)
	} else if _, err := a.store.FirstActiveAdmin(ctx, acc.ID); err != nil {
		a.createAdmin(account, "owner@"+account+".test", models.RoleAdmin)
	}
	names := make([]string, len(scopes))
	for i, s := range scopes {
		names[i] = string(s)
	}
	tok, t, err := a.Tokens.CreateForAccount(ctx, account, apitokens.CreateInput{Name: "script", Scopes: names, ExpiresIn: expires})
	if err != nil {
		a.t.Fatal(err)
	}
	return tok, t
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// accountID is the id of the named account.
func (a *testApp) accountID(name string) int64 {
	a.t.Helper()
	acc, err := a.store.AccountByName(context.Background(), name)
	if err != nil {
		a.t.Fatal(err)
	}
	return acc.ID
}
