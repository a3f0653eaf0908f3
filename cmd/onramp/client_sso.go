package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	qrcode "github.com/skip2/go-qrcode"
)

// ssoStart is the answer of POST /api/v1/client/sso/start.
type ssoStart struct {
	LoginURL  string `json:"login_url"`
	PollToken string `json:"poll_token"`
	Interval  int    `json:"interval"`
	ExpiresIn int    `json:"expires_in"`
}

// ssoSlowDown is how much longer the client waits after a slow_down answer (RFC 8628).
const ssoSlowDown = 5 * time.Second

// clientLoginSSO registers this device with the account's identity provider: it asks the server
// for a sign-in link, shows it (and a QR code, for a phone), and polls until the person has
// signed in with it in a browser. The poll token never leaves this process: the link alone
// gives no device credential.
func clientLoginSSO(ctx context.Context, df deviceFlags, account, path string, stdout, stderr io.Writer) error {
	api, err := newAPIClient(*df.server, stderr)
	if err != nil {
		return err
	}
	var start ssoStart
	err = api.call(ctx, http.MethodPost, "/api/v1/client/sso/start", "",
		map[string]string{"account": account, "device_name": *df.name, "platform": *df.platform}, &start)
	if err != nil {
		return refused("single sign-on refused", err)
	}
	if start.LoginURL == "" || start.PollToken == "" || start.Interval <= 0 || start.ExpiresIn <= 0 {
		return fmt.Errorf("client: %s did not answer with a sign-in link: is this an Onramp server?", api.base)
	}
	qr, err := qrcode.New(start.LoginURL, qrcode.Medium)
	if err != nil {
		return fmt.Errorf("client: %w", err)
	}
	fmt.Fprintf(stdout, "To register this device, open this link in a browser and sign in with your identity provider:\n\n  %s\n\n", start.LoginURL)
	fmt.Fprintf(stdout, "Or scan it with your phone:\n\n%s\n", qr.ToSmallString(false))
	fmt.Fprintf(stdout, "Waiting for the sign-in (the link works for %s)...\n", time.Duration(start.ExpiresIn)*time.Second)
	reg, err := pollSSO(ctx, api, start)
	if err != nil {
		return err
	}
	return saveRegistration(path, api.base, reg, stdout)
}

// pollSSO polls every interval until the sign-in is done, refused or expired.
func pollSSO(ctx context.Context, api *apiClient, start ssoStart) (registration, error) {
	interval := time.Duration(start.Interval) * time.Second
	deadline := time.Now().Add(time.Duration(start.ExpiresIn) * time.Second)
	for {
		if time.Now().After(deadline) {
			return registration{}, &exitError{code: exitRefused, err: errors.New("client: the sign-in link expired before the sign-in was done: run the command again")}
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return registration{}, ctx.Err()
		case <-t.C:
		}
		var reg registration
		err := api.call(ctx, http.MethodPost, "/api/v1/client/sso/poll", "", map[string]string{"poll_token": start.PollToken}, &reg)
		var se *serverError
		switch {
		case err == nil:
			return reg, nil
		case errors.As(err, &se) && se.Code == "authorization_pending":
		case errors.As(err, &se) && se.Code == "slow_down":
			interval += ssoSlowDown
		default:
			return registration{}, refused("single sign-on refused", err)
		}
	}
}
