// Package csvsafe writes CSV files that spreadsheets open without running anything: RFC 4180
// quoting (encoding/csv), UTF-8, and cells that start with a formula trigger (= + - @, tab or
// carriage return) prefixed with a single quote (OWASP "CSV injection").
package csvsafe

import (
	"encoding/csv"
	"io"
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

// Cell neutralises one value.
func Cell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
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
