package handlers

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"onramp/static"
)

// immutable is the caching of a file requested with its current version: the URL changes when
// the file does, so browsers keep it for a year without asking again.
const immutable = "public, max-age=31536000, immutable"

// serveStatic serves the embedded files, gzipped when the client takes it. A request with the
// file's current version (the URL pages use) is cached for good; any other (no version, or one
// from before a deploy) must be revalidated with the ETag, so that it never pins an old file.
func serveStatic(assets *static.Assets) echo.HandlerFunc {
	return func(c echo.Context) error {
		f, ok := assets.Lookup(c.Param("*"))
		if !ok {
			return echo.ErrNotFound
		}
		h := c.Response().Header()
		h.Set("Content-Type", f.ContentType)
		if c.QueryParam("v") == f.Version {
			h.Set("Cache-Control", immutable)
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		body, gz := f.Body, false
		if f.Gzip != nil {
			h.Add("Vary", "Accept-Encoding")
			if acceptsGzip(c.Request().Header.Get("Accept-Encoding")) {
				body, gz = f.Gzip, true
				h.Set("Content-Encoding", "gzip")
			}
		}
		h.Set("ETag", f.ETag(gz))
		// ServeContent answers If-None-Match with 304, HEAD and ranges.
		http.ServeContent(c.Response(), c.Request(), "", time.Time{}, bytes.NewReader(body))
		return nil
	}
}

// acceptsGzip reads an Accept-Encoding header: gzip is taken unless it is absent or has q=0.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		name, params, _ := strings.Cut(part, ";")
		if name = strings.TrimSpace(name); name != "gzip" && name != "x-gzip" {
			continue
		}
		q, found := strings.CutPrefix(strings.TrimSpace(params), "q=")
		if !found {
			return true
		}
		v, err := strconv.ParseFloat(q, 64)
		return err == nil && v > 0
	}
	return false
}
