package static

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"
)

// Prefix is where the files are served.
const Prefix = "/static/"

// Asset is one file ready to serve.
type Asset struct {
	ContentType string
	// Version is a short hash of the content: it changes with the file, so a URL that carries
	// it can be cached for good.
	Version string
	Body    []byte
	// Gzip is the gzipped body; nil for types that are compressed already (images, fonts) or
	// when gzip does not make the file smaller.
	Gzip []byte
}

// ETag is the entity tag of the body, or of its gzipped form (another representation, so
// another tag).
func (a *Asset) ETag(gzipped bool) string {
	if gzipped {
		return `"` + a.Version + `-gz"`
	}
	return `"` + a.Version + `"`
}

// Assets are the files of a file system by slash-separated name ("css/app.css").
type Assets struct {
	files map[string]*Asset
}

// Index reads every file of fsys, hashes it and gzips the compressible ones.
func Index(fsys fs.FS) (*Assets, error) {
	a := &Assets{files: map[string]*Asset{}}
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		asset := &Asset{ContentType: contentType(name), Version: hex.EncodeToString(sum[:6]), Body: body}
		if compressible(asset.ContentType) {
			if z := gzipped(body); len(z) < len(body) {
				asset.Gzip = z
			}
		}
		a.files[name] = asset
		return nil
	})
	return a, err
}

func mustIndex(fsys fs.FS) *Assets {
	a, err := Index(fsys)
	if err != nil {
		panic("static: " + err.Error()) // the embedded files are part of the binary
	}
	return a
}

// Lookup finds a file by name.
func (a *Assets) Lookup(name string) (*Asset, bool) {
	f, ok := a.files[name]
	return f, ok
}

// URL is the address of a file with its version: pages reference files through it, so that a
// deploy that changes a file changes the URL the new pages load, while the old URL stays cached.
// A name that is not a file gets its plain address (and a 404 when loaded).
func (a *Assets) URL(name string) string {
	f, ok := a.files[name]
	if !ok {
		return Prefix + name
	}
	return Prefix + name + "?v=" + f.Version
}

func contentType(name string) string {
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// compressible says whether gzip is worth trying: text formats are; images, fonts and archives
// are compressed already.
func compressible(contentType string) bool {
	t, _, _ := strings.Cut(contentType, ";")
	switch t {
	case "application/javascript", "text/javascript", "application/json", "image/svg+xml", "application/xml":
		return true
	}
	return strings.HasPrefix(t, "text/")
}

func gzipped(b []byte) []byte {
	var buf bytes.Buffer
	w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}
