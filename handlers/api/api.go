// Package api is the admin REST API at /api/v1 (docs/api.md): scripts act on their account
// with an API token (Authorization: Bearer), never a cookie, so there is no CSRF surface.
// Every call acts as its token through the console's own services (same rules, same events,
// the token named as actor), is limited per token (RateLimit-* headers), and every error is
// RFC 9457 problem details (application/problem+json). The VPN client API under
// /api/v1/client is another audience (handlers/clientapi) and is not part of this one.
//
// openapi.json (served at /api/v1/openapi.json) is the contract, and the route table obeys it:
// the scope a route needs is the one its operation declares. To add a route:
//
//  1. Write the handler, a method of *Handler in the file of its area: read a body with
//     decode(c, &in) and query parameters with the helpers here, act through one service call
//     with actor(c) (the Admin value the token acts as) and c.RealIP(), answer with c.JSON.
//     Return errors (models.ErrNotFound, *models.ValidationError, problem(...)): HandleError
//     renders each as problem+json.
//  2. Add it to handlers/routes.go with the access level adminAPI and a name "api.<area>...".
//  3. Describe it in openapi.json: the path in OpenAPI form (/api/v1/things/{id}), operationId
//     the route's name, and "security": [{"token": ["<scope>"]}] with the one scope it needs
//     (models.Scopes; a new scope goes there too, and on the console's token form). A route
//     without an operation answers 500: TestAPIRoutesMatchOpenAPI fails until router and
//     document agree both ways, and TestAPIScopesEnforced calls every operation with a token
//     lacking its scope.
//  4. A POST that creates something takes an Idempotency-Key by itself (idempotency.go).
package api

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/models"
	"onramp/models/apitokens"
	"onramp/models/codes"
	"onramp/models/devices"
	"onramp/models/events"
	"onramp/models/provisioning"
	"onramp/models/ratelimit"
	"onramp/models/stream"
	"onramp/models/users"
)

// Prefix starts every address of this API.
const Prefix = "/api/v1"

// MaxBody bounds a request body (a user actions request of 10,000 ids takes some 100 KB).
const MaxBody = 1 << 20

// Default rate limit per token: a burst of DefaultBurst calls, then one more every
// DefaultEvery (10 a second sustained).
const (
	DefaultBurst = 600
	DefaultEvery = 100 * time.Millisecond
)

// Deps are the services the API acts through.
type Deps struct {
	Tokens       *apitokens.Service
	Users        *users.Service
	Codes        *codes.Service
	Devices      *devices.Service
	Events       *events.Service
	Provisioning *provisioning.Service
	Stream       *stream.Service
	// Burst and Every are the rate limit per token (0: DefaultBurst, DefaultEvery).
	Burst int
	Every time.Duration
	Log   *slog.Logger
}

// Handler serves /api/v1.
type Handler struct {
	Deps
	limit  *ratelimit.Limiter
	scopes map[string]models.Scope // "GET /api/v1/users/:id" → its scope (openapi.json)
}

// New builds the API handlers; the scopes of the routes come from openapi.json.
func New(d Deps) *Handler {
	if d.Burst <= 0 {
		d.Burst = DefaultBurst
	}
	if d.Every <= 0 {
		d.Every = DefaultEvery
	}
	scopes, err := OperationScopes()
	if err != nil {
		panic(err) // openapi.json is embedded: a test parses it on every build
	}
	return &Handler{Deps: d, limit: ratelimit.New(d.Burst, d.Every).WithClock(d.Tokens.Now), scopes: scopes}
}

type callerKey struct{}

// caller is the token of a request and the Admin value it acts as.
type caller struct {
	token *models.APIToken
	admin *models.Admin
}

func callerOf(c echo.Context) caller { return c.Request().Context().Value(callerKey{}).(caller) }

// actor is the Admin value the request's token acts as: the services' rules are the admin
// role's, their events name the token.
func actor(c echo.Context) *models.Admin { return callerOf(c).admin }

// Authenticate admits a request with a live API token that has the scope its operation
// declares, within the token's rate limit; it then takes an Idempotency-Key of a POST.
func (h *Handler) Authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		scope, ok := h.scopes[c.Request().Method+" "+c.Path()]
		if !ok {
			return fmt.Errorf("api: route %s %s has no operation in openapi.json", c.Request().Method, c.Path())
		}
		scheme, token, _ := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		if !strings.EqualFold(scheme, "Bearer") {
			token = ""
		}
		t, admin, err := h.Tokens.Authenticate(c.Request().Context(), strings.TrimSpace(token), c.RealIP())
		if err != nil {
			return err
		}
		if err := h.rateLimit(c, t); err != nil {
			return err
		}
		if !t.Has(scope) {
			return problem(http.StatusForbidden, "insufficient-scope", "This token lacks the scope "+string(scope)+", which this call needs.")
		}
		ctx := context.WithValue(c.Request().Context(), callerKey{}, caller{token: t, admin: admin})
		c.SetRequest(c.Request().WithContext(ctx))
		if c.Request().Method == http.MethodPost {
			return h.idempotent(c, next)
		}
		return next(c)
	}
}

// rateLimit spends one call of the token's budget. The limiter may be shared by several
// servers, so what is left is only known when nothing is: RateLimit-Remaining is sent with
// the 429.
func (h *Handler) rateLimit(c echo.Context, t *models.APIToken) error {
	hd := c.Response().Header()
	window := int(h.Every.Seconds() * float64(h.Burst))
	hd.Set("RateLimit-Limit", strconv.Itoa(h.Burst))
	hd.Set("RateLimit-Policy", fmt.Sprintf("%d;w=%d", h.Burst, window))
	ok, wait := h.limit.Take("api-token:" + strconv.FormatInt(t.ID, 10))
	if ok {
		return nil
	}
	secs := strconv.Itoa(max(1, int((wait+time.Second-1)/time.Second)))
	hd.Set("RateLimit-Remaining", "0")
	hd.Set("RateLimit-Reset", secs)
	hd.Set("Retry-After", secs)
	return problem(http.StatusTooManyRequests, "rate-limited", "This token made too many calls: retry in "+secs+" s.")
}

// Problem is an error of this API in the RFC 9457 shape: problem(status, name, detail).
type Problem struct {
	Type     string            `json:"type"`
	Title    string            `json:"title"`
	Status   int               `json:"status"`
	Detail   string            `json:"detail,omitempty"`
	Instance string            `json:"instance,omitempty"`
	Errors   map[string]string `json:"errors,omitempty"` // per field, for 422
	// RequestID names the request in the server's log.
	RequestID string `json:"request_id,omitempty"`
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s: %s", p.Status, p.Type, p.Detail) }

// ProblemType is the type URI of a problem named name (docs/api.md#errors lists them).
func ProblemType(name string) string { return "urn:onramp:problem:" + name }

func problem(status int, name, detail string) *Problem {
	return &Problem{Type: ProblemType(name), Title: http.StatusText(status), Status: status, Detail: detail}
}

// ContentTypeProblem is the media type of every error.
const ContentTypeProblem = "application/problem+json"

// HandleError renders every error of /api/v1 (except /api/v1/client) as problem details.
func (h *Handler) HandleError(err error, c echo.Context) {
	p := toProblem(err)
	p.Instance = c.Request().URL.Path
	p.RequestID = c.Response().Header().Get(echo.HeaderXRequestID)
	if p.Status >= 500 {
		if h.Log != nil {
			h.Log.ErrorContext(c.Request().Context(), "request failed", "request_id", p.RequestID, "route", c.Path(), "error", err.Error())
		}
		p.Detail = "The server could not answer; the error is logged with the request ID."
	}
	if p.Status == http.StatusUnauthorized {
		c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="onramp-api"`)
	}
	b, _ := json.Marshal(p)
	_ = c.Blob(p.Status, ContentTypeProblem, b)
}

// toProblem maps an error to its problem: the services' errors by errors.Is / As.
func toProblem(err error) *Problem {
	var p *Problem
	var he *echo.HTTPError
	var ve *models.ValidationError
	var rl *models.RateLimitError
	switch {
	case errors.As(err, &p):
		return p
	case errors.Is(err, apitokens.ErrUnauthorized):
		return problem(http.StatusUnauthorized, "unauthorized", "Send a live API token: Authorization: Bearer <token>.")
	case errors.Is(err, apitokens.ErrKeyReused):
		return problem(http.StatusUnprocessableEntity, "idempotency-key-reused", "This Idempotency-Key was sent with a different request: use a new key for a new request.")
	case errors.Is(err, apitokens.ErrKeyInFlight):
		return problem(http.StatusConflict, "idempotency-key-in-flight", "The first request with this Idempotency-Key has not answered yet: retry in a moment.")
	case errors.As(err, &ve):
		out := problem(http.StatusUnprocessableEntity, "validation", ve.Error())
		out.Errors = ve.Fields
		return out
	case errors.Is(err, models.ErrNotFound):
		return problem(http.StatusNotFound, "not-found", "There is no such resource in this token's account.")
	case errors.Is(err, models.ErrForbidden):
		return problem(http.StatusForbidden, "forbidden", "This is not allowed.")
	case errors.Is(err, models.ErrConflict):
		return problem(http.StatusConflict, "conflict", "This conflicts with the current state.")
	case errors.As(err, &rl):
		return problem(http.StatusTooManyRequests, "rate-limited", "Too many requests: retry later.")
	case errors.As(err, &he):
		msg, _ := he.Message.(string)
		if he.Code >= 500 || msg == "" {
			msg = http.StatusText(he.Code)
		}
		return problem(he.Code, strings.ReplaceAll(strings.ToLower(http.StatusText(he.Code)), " ", "-"), msg)
	}
	return problem(http.StatusInternalServerError, "server-error", "")
}

// decode reads a JSON body into dst, refusing unknown fields.
func decode(c echo.Context, dst any) error {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, MaxBody+1))
	if err != nil {
		return err
	}
	if len(body) > MaxBody {
		return problem(http.StatusRequestEntityTooLarge, "too-large", "The body is larger than 1 MB.")
	}
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return problem(http.StatusBadRequest, "invalid-json", "The body is not the JSON this call takes: "+err.Error())
	}
	return nil
}

// pathID reads a numeric path parameter; anything else is not found.
func pathID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, models.ErrNotFound
	}
	return id, nil
}
