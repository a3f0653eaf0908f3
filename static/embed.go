// Package static embeds the console's stylesheet, scripts (our app.js and a pinned, vendored
// htmx) and images into the binary, and indexes them once for serving: a content hash for
// versioned URLs and ETags, and a gzipped copy of each text file.
package static

import (
	"embed"
)

//go:embed css js img
var files embed.FS

// Files are the embedded files, indexed when the program starts: they cannot change while it
// runs, so the index is computed once and only read after.
var Files = mustIndex(files)

// URL is the versioned address of an embedded file (see Assets.URL).
func URL(name string) string { return Files.URL(name) }
