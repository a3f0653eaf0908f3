package handlers_test

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
)

// assetRE finds the static files a page references.
var assetRE = regexp.MustCompile(`(?:href|src)="(/static/[^"]+)"`)

// TestStaticFilesCompressedAndCached: the pages reference static files by versioned URLs that
// are cached for good; text files go out gzipped to clients that take it, with Vary, and a
// request without the current version revalidates instead (an old page after a deploy).
func TestStaticFilesCompressedAndCached(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	c := a.client()
	r := c.get("/login")
	expectStatus(t, r, http.StatusOK)
	refs := assetRE.FindAllStringSubmatch(r.body, -1)
	if len(refs) < 4 {
		t.Fatalf("the sign-in page references %d static files, want the icon, CSS and two scripts", len(refs))
	}
	for _, m := range refs {
		path := strings.ReplaceAll(m[1], "&amp;", "&")
		if !strings.Contains(path, "?v=") {
			t.Errorf("%s is not a versioned URL", path)
		}
		res := fetch(t, a, path, "gzip, deflate, br")
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.status)
		}
		if cc := res.header.Get("Cache-Control"); !strings.Contains(cc, "max-age=31536000") || !strings.Contains(cc, "immutable") {
			t.Errorf("GET %s: Cache-Control %q, want a year and immutable", path, cc)
		}
		if res.header.Get("Content-Encoding") != "gzip" {
			t.Errorf("GET %s: Content-Encoding %q, want gzip", path, res.header.Get("Content-Encoding"))
		}
		if !strings.Contains(res.header.Get("Vary"), "Accept-Encoding") {
			t.Errorf("GET %s: Vary %q", path, res.header.Get("Vary"))
		}
		plain := fetch(t, a, path, "")
		if plain.header.Get("Content-Encoding") != "" {
			t.Errorf("GET %s without Accept-Encoding: encoded as %q", path, plain.header.Get("Content-Encoding"))
		}
		zr, err := gzip.NewReader(bytes.NewReader(res.body))
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		unzipped, _ := io.ReadAll(zr)
		if !bytes.Equal(unzipped, plain.body) || len(plain.body) == 0 {
			t.Errorf("GET %s: the gzipped body is not the plain one", path)
		}
		if len(res.body) >= len(plain.body) {
			t.Errorf("GET %s: gzip (%d bytes) is not smaller than plain (%d)", path, len(res.body), len(plain.body))
		}
	}

	// Without the version (or with an old one) the file is served but must be revalidated.
	for _, path := range []string{"/static/css/app.css", "/static/css/app.css?v=0ld"} {
		res := fetch(t, a, path, "gzip")
		if res.status != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.status)
		}
		if cc := res.header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache", path, cc)
		}
		etag := res.header.Get("ETag")
		if etag == "" {
			t.Fatalf("GET %s: no ETag", path)
		}
		req, _ := http.NewRequest(http.MethodGet, a.srv.URL+path, nil)
		req.Header.Set("If-None-Match", etag)
		req.Header.Set("Accept-Encoding", "gzip")
		again, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		again.Body.Close()
		if again.StatusCode != http.StatusNotModified {
			t.Errorf("GET %s with its ETag: %d, want 304", path, again.StatusCode)
		}
	}
	// A client that refuses gzip gets the plain file.
	if res := fetch(t, a, "/static/css/app.css", "gzip;q=0, identity"); res.header.Get("Content-Encoding") != "" {
		t.Errorf("gzip;q=0 got %q", res.header.Get("Content-Encoding"))
	}
	if res := fetch(t, a, "/static/nope.css", "gzip"); res.status != http.StatusNotFound {
		t.Errorf("a missing static file: %d, want 404", res.status)
	}
}

type fetched struct {
	status int
	header http.Header
	body   []byte
}

// fetch GETs a path with the given Accept-Encoding and without the transport's own gzip
// handling, so that the test sees the bytes on the wire.
func fetch(t *testing.T, a *testApp, path, acceptEncoding string) fetched {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, a.srv.URL+path, nil)
	if acceptEncoding != "" {
		req.Header.Set("Accept-Encoding", acceptEncoding)
	}
	res, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return fetched{status: res.StatusCode, header: res.Header, body: b}
}
