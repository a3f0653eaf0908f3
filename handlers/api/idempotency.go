package api

import (
	"bytes"
	"context"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/models/apitokens"
)

// HeaderIdempotencyKey makes a POST safe to retry: the first response to a key is kept per
// token for 24 hours and replayed to every retry (with Idempotent-Replayed: true), so a
// retried create never makes two users or two sets of codes. The same key with another body
// is 422; while the first request runs, 409.
const HeaderIdempotencyKey = "Idempotency-Key"

// idempotent runs a POST under its Idempotency-Key, if it has one.
func (h *Handler) idempotent(c echo.Context, next echo.HandlerFunc) error {
	key := c.Request().Header.Get(HeaderIdempotencyKey)
	if key == "" {
		return next(c)
	}
	if len(key) > apitokens.MaxKeyLength || !printable(key) {
		return problem(http.StatusBadRequest, "invalid-idempotency-key", "An Idempotency-Key is 1 to 255 printable ASCII characters (a UUID does).")
	}
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, MaxBody+1))
	if err != nil {
		return err
	}
	c.Request().Body = io.NopCloser(bytes.NewReader(body))
	tokenID := callerOf(c).token.ID
	ctx := c.Request().Context()
	prev, err := h.Tokens.Claim(ctx, tokenID, key, c.Request().Method, c.Path()+"?"+c.QueryString(), body)
	if err != nil {
		return err
	}
	if prev != nil {
		c.Response().Header().Set("Idempotent-Replayed", "true")
		return c.Blob(prev.Status, prev.ContentType, prev.Body)
	}
	rec := &recorder{ResponseWriter: c.Response().Writer}
	c.Response().Writer = rec
	err = next(c)
	status := c.Response().Status
	// The request's own context may be gone (the client hung up): the key must still be
	// settled, or every retry would wait for 24 hours.
	settle := context.WithoutCancel(ctx)
	if err != nil || status >= 400 || !c.Response().Committed {
		if rerr := h.Tokens.Release(settle, tokenID, key); rerr != nil && err == nil {
			err = rerr
		}
		return err
	}
	return h.Tokens.Finish(settle, tokenID, key, apitokens.Response{Status: status,
		ContentType: c.Response().Header().Get(echo.HeaderContentType), Body: rec.body.Bytes()})
}

// recorder keeps a copy of what a handler writes.
type recorder struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (r *recorder) Write(b []byte) (int, error) {
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

func printable(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}
