package models_test

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// Dependencies point down: handlers → use cases → store → models. Each layer's forbidden
// imports (test files excluded: harnesses open databases).
var layers = []struct {
	dir       string // relative to models/
	forbidden []string
}{
	// Nothing under models/ imports the HTTP layer, sessions, templates or views.
	{".", []string{"github.com/labstack/echo", "github.com/gorilla/sessions", "github.com/a-h/templ", "onramp/handlers", "onramp/views", "net/http"}},
	// Handlers and views reach the database only through use cases: never the store or GORM.
	{"../handlers", []string{"onramp/models/store", "gorm.io"}},
	{"../views", []string{"onramp/models/store", "gorm.io", "github.com/labstack/echo"}},
}

// exempt are test-support packages that only tests import: sso/ssotest is an OpenID provider
// on a loopback port, an HTTP server by nature.
var exempt = map[string]bool{filepath.Join("sso", "ssotest"): true}

// allowed are the forbidden imports a package needs for what it is: event streaming posts
// webhooks, an HTTP client by nature (it serves nothing).
var allowed = map[string]string{"stream": "net/http"}

func TestLayersImportOnlyDownwards(t *testing.T) {
	t.Parallel()
	for _, l := range layers {
		checked := 0
		err := filepath.WalkDir(l.dir, func(path string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				return err
			}
			if exempt[path] {
				return nil
			}
			pkg, err := build.ImportDir(path, build.ImportComment)
			if err != nil {
				if _, ok := err.(*build.NoGoError); ok {
					return nil
				}
				return err
			}
			checked++
			for _, imp := range pkg.Imports {
				for _, f := range l.forbidden {
					if allowed[path] == imp {
						continue
					}
					if imp == f || strings.HasPrefix(imp, f+"/") {
						t.Errorf("%s imports %s", path, imp)
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if checked < 3 {
			t.Fatalf("%s: only %d packages checked", l.dir, checked)
		}
	}
}
