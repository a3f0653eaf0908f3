package middleware

import (
	"errors"
	"fmt"
	"mime"
	"net/http"

	"github.com/labstack/echo/v4"

	"onramp/models/text"
)

// storedHeaders are the request headers whose text Onramp keeps (a session keeps the
// User-Agent). The others it reads are parsed (an IP address) or hashed (a bearer token).
var storedHeaders = []string{"User-Agent"}

// multiline are the form fields that hold several lines (text.ValidLines): a textarea's.
var multiline = map[string]bool{"ca_pem": true, "events": true}

// maxNamed is the longest field name a refusal quotes: a longer one is described, not shown.
const maxNamed = 64

// TextInput refuses a request that carries something other than text (models/text: UTF-8
// without control characters; line breaks only in the multiline fields) in its path (and so its path parameters), its query, a form
// field's name or value, or a stored header, with 400 and a message that says where. Nothing
// past it sees a NUL byte, which PostgreSQL refuses, or bytes that are not UTF-8. On a route
// where forms says so, a body must be a form (415 otherwise): Echo's binder would read a JSON
// or XML body into the same fields, past this check. The JSON APIs check their own bodies.
func TextInput(forms func(echo.Context) bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if err := checkInput(c, forms(c)); err != nil {
				return err
			}
			return next(c)
		}
	}
}

func checkInput(c echo.Context, forms bool) error {
	req := c.Request()
	if !text.Valid(req.URL.Path) {
		return notText("The address")
	}
	for _, h := range storedHeaders {
		for _, v := range req.Header.Values(h) {
			if !text.Valid(v) {
				return notText("The " + h + " header")
			}
		}
	}
	if forms && req.ContentLength != 0 && !isForm(req.Header.Get(echo.HeaderContentType)) {
		return echo.NewHTTPError(http.StatusUnsupportedMediaType,
			"This address takes forms only (application/x-www-form-urlencoded or multipart/form-data).")
	}
	// The query and, for a form, its fields: Echo parses them once and keeps them for the
	// handlers.
	values, err := c.FormParams()
	if err != nil {
		if he := (*echo.HTTPError)(nil); errors.As(err, &he) { // the body is over its limit
			return he
		}
		return echo.NewHTTPError(http.StatusBadRequest, "The address or the form is not well formed (a stray % or ; perhaps).")
	}
	for name, vs := range values {
		if !text.Valid(name) {
			return notText("A field name")
		}
		valid := text.Valid
		if multiline[name] {
			valid = text.ValidLines
		}
		for _, v := range vs {
			if !valid(v) {
				return notText(field(name))
			}
		}
	}
	return nil
}

// field names a field in a message, unless its name is too long to show.
func field(name string) string {
	if len(name) > maxNamed {
		return "A field"
	}
	return fmt.Sprintf("The field %q", name)
}

func notText(what string) error {
	return echo.NewHTTPError(http.StatusBadRequest, text.Refusal(what))
}

// isForm reports whether a Content-Type is one of the two a browser sends a form as.
func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && (mt == echo.MIMEApplicationForm || mt == echo.MIMEMultipartForm)
}
