package components

import (
	"context"
	"io"

	"github.com/a-h/templ"
)

// Badge is a small coloured label (status, role); kind names its colour, one of the style
// sheet's badge-* classes. It is written in Go: templ's class attribute builds and sorts a list
// of classes at every call, and a Users page shows up to three badges a row.
func Badge(kind, text string) templ.Component {
	return templ.ComponentFunc(func(_ context.Context, w io.Writer) error {
		_, err := io.WriteString(w, `<span class="badge badge-`+templ.EscapeString(kind)+`">`+templ.EscapeString(text)+`</span>`)
		return err
	})
}
