package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Set at build time by the Makefile and deploy/build.sh:
//
//	-ldflags "-X main.version=1.4.0 -X main.commit=3f2c1ab -X main.buildDate=2026-11-29T09:00:00Z"
//
// A binary built without them (go build, go run, go install) falls back to what the Go
// toolchain recorded (buildInfo).
var (
	version   string
	commit    string
	buildDate string
)

// build says which build this binary is.
type build struct {
	Version, Commit, Date, Go string
}

// currentBuild is this binary's build, from the link-time values or else the toolchain's
// build information (module version, VCS revision and time).
func currentBuild() build {
	info, _ := debug.ReadBuildInfo()
	return buildInfo(version, commit, buildDate, info)
}

// buildInfo fills what the link-time values leave empty from info (nil when there is none).
func buildInfo(version, commit, date string, info *debug.BuildInfo) build {
	b := build{Version: version, Commit: commit, Date: date, Go: runtime.Version()}
	if info != nil {
		if b.Version == "" && info.Main.Version != "" && info.Main.Version != "(devel)" {
			b.Version = info.Main.Version
		}
		settings := map[string]string{}
		for _, s := range info.Settings {
			settings[s.Key] = s.Value
		}
		if b.Commit == "" && settings["vcs.revision"] != "" {
			b.Commit = settings["vcs.revision"][:min(12, len(settings["vcs.revision"]))]
			if settings["vcs.modified"] == "true" {
				b.Commit += "-dirty"
			}
		}
		if b.Date == "" {
			b.Date = settings["vcs.time"] // the commit's time: the best a plain go build knows
		}
		if info.GoVersion != "" {
			b.Go = info.GoVersion
		}
	}
	if b.Version == "" {
		b.Version = "dev"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	return b
}

// String is the version line: "onramp <version> (<commit>, <go version>)", then the build date
// when it is known.
func (b build) String() string {
	s := fmt.Sprintf("onramp %s (%s, %s)", b.Version, b.Commit, b.Go)
	if b.Date != "" {
		s += " built " + b.Date
	}
	return s
}

// versionCmd serves `onramp version` and `onramp --version`.
func versionCmd(stdout io.Writer) error {
	_, err := fmt.Fprintln(stdout, currentBuild())
	return err
}
