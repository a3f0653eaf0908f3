package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// healthcheck serves `onramp healthcheck [--ready]`: it asks this machine's server (at
// ONRAMP_ADDR) for /healthz, or /readyz with --ready, and fails unless it answers 200. It is
// the container image's HEALTHCHECK, which has no curl.
func healthcheck(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	fs.SetOutput(stderr)
	ready := fs.Bool("ready", false, "ask /readyz (the database answers too) instead of /healthz")
	if err := fs.Parse(args); err != nil {
		return err
	}
	host, port, err := net.SplitHostPort(orDefault(getenv("ONRAMP_ADDR"), "localhost:8080"))
	if err != nil {
		return fmt.Errorf("ONRAMP_ADDR: %w", err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" { // every interface: this one too
		host = "127.0.0.1"
	}
	path := "/healthz"
	if *ready {
		path = "/readyz"
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+net.JoinHostPort(host, port)+path, nil)
	if err != nil {
		return err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1<<10))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s %s", path, res.Status, body)
	}
	_, err = fmt.Fprintf(stdout, "%s: %s\n", path, body)
	return err
}
