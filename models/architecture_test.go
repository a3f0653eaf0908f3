package models_test

import (
	"go/build"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// Dependencies point down: nothing under models/ may import the HTTP layer, sessions, templates
// or views.
var forbidden = []string{
	"github.com/labstack/echo",
	"github.com/gorilla/sessions",
	"github.com/a-h/templ",
	"onramp/handlers",
	"onramp/views",
	"net/http",
}

func TestModelsDoNotImportUpperLayers(t *testing.T) {
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
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
			for _, f := range forbidden {
				if imp == f || strings.HasPrefix(imp, f+"/") {
					t.Errorf("models/%s imports %s", path, imp)
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 5 {
		t.Fatalf("only %d packages checked", checked)
	}
}
