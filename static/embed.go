// Package static embeds the console's stylesheet, scripts (our app.js and a pinned, vendored
// htmx) and images into the binary.
package static

import (
	"embed"
	"io/fs"
)

//go:embed css js img
var files embed.FS

// FS is served under /static/.
var FS fs.FS = files
