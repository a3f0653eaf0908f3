// Package csvsafe writes CSV files that spreadsheets open without running anything: RFC 4180
// quoting (encoding/csv), UTF-8, and cells that start with a formula trigger (= + - @, tab or
// carriage return, or a lookalike such as the full-width ＝) prefixed with a single quote
// (OWASP "CSV injection").
package csvsafe

import (
	"encoding/csv"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Writer writes rows of neutralised cells.
type Writer struct {
	w   *csv.Writer
	row []string
}

// NewWriter writes to w with CRLF line ends, as RFC 4180 has them.
func NewWriter(w io.Writer) *Writer {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &Writer{w: cw}
}

// triggers are the characters that make a spreadsheet read a cell as a formula.
const triggers = "=+-@\t\r"

// Cell neutralises one value. A cell is prefixed when its first character is a trigger or
// folds to one under NFKC (golang.org/x/text): the full-width ＝ ＋ － ＠, the small and
// superscript forms. A spreadsheet may read those as the trigger (an input method typing
// full-width, say), so they count as the trigger itself. Bytes that are not UTF-8 become
// U+FFFD first: a reader that drops a carriage return between them ("\xef\r\xbc\x9d", found
// by FuzzWriter) would otherwise join them into a ＝ that was never checked.
func Cell(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	r, size := utf8.DecodeRuneInString(s)
	first := s[:size]
	if r >= utf8.RuneSelf {
		first = norm.NFKC.String(first)
	}
	if first != "" && strings.IndexByte(triggers, first[0]) >= 0 {
		return "'" + s
	}
	return s
}

// Write writes one row.
func (w *Writer) Write(cells ...string) error {
	w.row = w.row[:0]
	for _, c := range cells {
		w.row = append(w.row, Cell(c))
	}
	return w.w.Write(w.row)
}

// Flush writes buffered rows out and returns any error so far. Call it now and then while
// streaming, and at the end.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}
