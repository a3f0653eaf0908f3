package clientapi

import (
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"onramp/models"
	"onramp/models/text"
)

// FuzzParseJSON checks that what the client API's decoder accepts is one JSON object whose
// string fields are all text, and that anything else is a 400 invalid_request with a message.
func FuzzParseJSON(f *testing.F) {
	for _, s := range []string{
		`{"account":"acme","email":"grace@example.com","password":"violet harbour","totp":"123456","device_name":"laptop","platform":"macos"}`,
		`{"email":"a\u0000b"}`, `{"device_name":"\u001b[31m"}`, "{\"email\":\"\xff\"}", `{"email":"\ud800"}`,
		`{"code":5}`, `{} {}`, `{}}`, `[]`, ``, `{"email":"Zoë 東京"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req loginRequest
		err := parseJSON(body, &req)
		if err != nil {
			var ae *APIError
			if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != "invalid_request" || ae.Message == "" {
				t.Fatalf("%q: %v, want a 400 invalid_request with a message", body, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("%q is not JSON but was accepted", body)
		}
		for _, s := range []string{req.Account, req.Email, req.Password, req.TOTP, req.DeviceName, req.Platform} {
			if !text.Valid(s) {
				t.Fatalf("%q: field %q let through", body, s)
			}
		}
	})
}

func TestParseJSONNamesTheField(t *testing.T) {
	t.Parallel()
	var req registerRequest
	err := parseJSON([]byte(`{"code":"ABCD","device_name":"lap\ttop"}`), &req)
	var ve *models.ValidationError
	if !errors.As(err, &ve) || ve.Fields["device_name"] == "" || len(ve.Fields) != 1 {
		t.Fatalf("%v, want a validation error on device_name", err)
	}
}
