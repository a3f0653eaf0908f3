package main

import (
	"bytes"
	"context"
	"regexp"
	"runtime"
	"runtime/debug"
	"testing"
)

func TestVersionCommand(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, envOf(nil), nil, &out, &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if !regexp.MustCompile(`^onramp \S+ \(\S+, go1\.\d+\S*\)( built \S+)?\n$`).MatchString(out.String()) {
			t.Fatalf("%v printed %q", args, out.String())
		}
	}
}

// TestBuildInfo: the link-time values win; without them the toolchain's record fills in.
func TestBuildInfo(t *testing.T) {
	t.Parallel()
	info := &debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Version: "v1.3.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef0123"}, {Key: "vcs.time", Value: "2026-11-28T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}
	for _, c := range []struct {
		version, commit, date string
		info                  *debug.BuildInfo
		want                  string
	}{
		{"1.4.0", "3f2c1ab", "2026-11-29T09:00:00Z", info, "onramp 1.4.0 (3f2c1ab, go1.26.8) built 2026-11-29T09:00:00Z"},
		{"", "", "", info, "onramp v1.3.0 (0123456789ab-dirty, go1.26.8) built 2026-11-28T10:00:00Z"},
		{"", "", "", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "onramp dev (unknown, " + runtime.Version() + ")"},
		{"", "", "", nil, "onramp dev (unknown, " + runtime.Version() + ")"},
	} {
		if got := buildInfo(c.version, c.commit, c.date, c.info).String(); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}
