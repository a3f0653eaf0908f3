package static

import (
	"strings"
	"testing"
	"testing/fstest"
)

// TestIndexCompressesOnlyText: text formats get a gzipped copy, formats that are compressed
// already do not, nor a file that gzip would make bigger.
func TestIndexCompressesOnlyText(t *testing.T) {
	text := []byte(strings.Repeat(".card { padding: 1rem; }\n", 50))
	a, err := Index(fstest.MapFS{
		"css/app.css":   {Data: text},
		"js/app.js":     {Data: text},
		"img/logo.svg":  {Data: text},
		"img/photo.png": {Data: text},
		"font/f.woff2":  {Data: text},
		"css/tiny.css":  {Data: []byte("a{}")},
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{"css/app.css": true, "js/app.js": true, "img/logo.svg": true,
		"img/photo.png": false, "font/f.woff2": false, "css/tiny.css": false} {
		f, ok := a.Lookup(name)
		if !ok {
			t.Fatalf("%s not indexed", name)
		}
		if got := f.Gzip != nil; got != want {
			t.Errorf("%s (%s): gzipped %v, want %v", name, f.ContentType, got, want)
		}
	}
}

// TestURLChangesWithContent: the version in a URL follows the content, so a deploy that changes a
// file gives it a new URL.
func TestURLChangesWithContent(t *testing.T) {
	one, _ := Index(fstest.MapFS{"css/app.css": {Data: []byte("body{color:red}")}})
	two, _ := Index(fstest.MapFS{"css/app.css": {Data: []byte("body{color:blue}")}})
	u1, u2 := one.URL("css/app.css"), two.URL("css/app.css")
	if !strings.HasPrefix(u1, "/static/css/app.css?v=") || u1 == u2 {
		t.Fatalf("URLs %q and %q: want versioned and different", u1, u2)
	}
	if u := one.URL("css/missing.css"); u != "/static/css/missing.css" {
		t.Fatalf("a missing file: %q", u)
	}
	f, _ := one.Lookup("css/app.css")
	if f.ETag(false) == f.ETag(true) {
		t.Fatal("the gzipped body has the plain body's ETag")
	}
}
