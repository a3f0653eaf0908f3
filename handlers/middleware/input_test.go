package middleware

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"onramp/models/text"
)

// multipartBody is a multipart form with one field, boundary "B".
const multipartBody = "--B\r\nContent-Disposition: form-data; name=\"email\"\r\n\r\nada@example.com\r\n--B--\r\n"

// FuzzCheckInput checks that a request checkInput lets through holds only text in its path,
// query, form fields and User-Agent, and that anything else is a 400 or 415, never a panic.
func FuzzCheckInput(f *testing.F) {
	f.Add("/login", "next=%2F", "email=ada%40example.com&password=violet+harbour", "Mozilla/5.0", false, true)
	f.Add("/access/users", "q=Zo%C3%AB&origin=manual", "", "Mozilla/5.0 (X11)", false, true)
	f.Add("/myvpn/login", "", multipartBody, "curl/8", true, true)
	f.Add("/set-password/a\x00b", "q=%00", "email=%FF", "Mozilla\t", false, true)
	f.Add("/api/v1/client/login", "", `{"email":"a\u0000"}`, "onramp-client/1", false, false)
	f.Add("/events", "q=%zz;x", "a=%", "é", true, true)
	e := echo.New()
	f.Fuzz(func(t *testing.T, path, query, body, ua string, multipart, forms bool) {
		req := &http.Request{Method: http.MethodPost, URL: &url.URL{Path: path, RawQuery: query}, Header: http.Header{},
			Body: io.NopCloser(strings.NewReader(body)), ContentLength: int64(len(body))}
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
		if multipart {
			req.Header.Set(echo.HeaderContentType, echo.MIMEMultipartForm+"; boundary=B")
		}
		req.Header.Set("User-Agent", ua)
		c := e.NewContext(req, httptest.NewRecorder())
		err := checkInput(c, forms)
		if err != nil {
			var he *echo.HTTPError
			if !errors.As(err, &he) || he.Code != http.StatusBadRequest {
				t.Fatalf("refused with %v, want a 400", err)
			}
			return
		}
		for what, s := range map[string]string{"path": path, "User-Agent": ua} {
			if !text.Valid(s) {
				t.Fatalf("%s %q let through", what, s)
			}
		}
		for name, vs := range req.Form {
			for _, v := range append(vs, name) {
				if !text.Valid(v) {
					t.Fatalf("field %q = %q let through", name, v)
				}
			}
		}
	})
}

func TestCheckInputTakesFormsOnly(t *testing.T) {
	t.Parallel()
	e := echo.New()
	for ctype, want := range map[string]int{
		echo.MIMEApplicationJSON:                http.StatusUnsupportedMediaType,
		echo.MIMETextXML:                        http.StatusUnsupportedMediaType,
		"":                                      http.StatusUnsupportedMediaType,
		echo.MIMEApplicationForm:                0,
		echo.MIMEApplicationForm + "; a=b":      0,
		echo.MIMEMultipartForm + "; boundary=B": 0,
	} {
		body := "email=ada%40example.com"
		if strings.HasPrefix(ctype, echo.MIMEMultipartForm) {
			body = multipartBody
		}
		req := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(body))
		req.Header.Set(echo.HeaderContentType, ctype)
		got := 0
		if err := checkInput(e.NewContext(req, httptest.NewRecorder()), true); err != nil {
			var he *echo.HTTPError
			if !errors.As(err, &he) {
				t.Fatalf("%q: %v", ctype, err)
			}
			got = he.Code
		}
		if got != want {
			t.Errorf("%q: %d, want %d (0: let through)", ctype, got, want)
		}
	}
}

// TestCheckInputLinesOnlyInMultilineFields: a PEM's line breaks pass in ca_pem, and the same
// value in a one-line field is refused, as is a NUL byte in ca_pem.
func TestCheckInputLinesOnlyInMultilineFields(t *testing.T) {
	t.Parallel()
	e := echo.New()
	pem := "-----BEGIN CERTIFICATE-----\r\nMIIB\r\n-----END CERTIFICATE-----\r\n"
	for form, ok := range map[string]bool{
		"ca_pem=" + url.QueryEscape(pem):     true,
		"bind_dn=" + url.QueryEscape(pem):    false,
		"ca_pem=" + url.QueryEscape("a\x00"): false,
	} {
		req := httptest.NewRequest(http.MethodPost, "/x", strings.NewReader(form))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationForm)
		if err := checkInput(e.NewContext(req, httptest.NewRecorder()), true); (err == nil) != ok {
			t.Errorf("%q: %v", form, err)
		}
	}
}
