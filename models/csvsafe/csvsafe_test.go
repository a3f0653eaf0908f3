package csvsafe

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"golang.org/x/text/unicode/norm"
)

func TestCells(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"Ada", "Ada"},
		{"", ""},
		{"=HYPERLINK(\"http://evil\")", "'=HYPERLINK(\"http://evil\")"},
		{"+1 555", "'+1 555"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1)", "'@SUM(A1)"},
		{"\tx", "'\tx"},
		{"\rx", "'\rx"},
		{"a=b", "a=b"},
		{"Zoë", "Zoë"},
		// Lookalikes that a spreadsheet may read as the trigger (NFKC folds them to it).
		{"＝1+1", "'＝1+1"},
		{"＋1 555", "'＋1 555"},
		{"－2", "'－2"},
		{"＠SUM(A1)", "'＠SUM(A1)"},
		{"﹦1", "'﹦1"},
		{"﹢1", "'﹢1"},
		{"⁼1", "'⁼1"},
		{"Ａda", "Ａda"},
		{"東京", "東京"},
		// Not UTF-8: the bytes around a carriage return could join into ＝ once it is dropped.
		{"\xef\r\xbc\x9d", "\uFFFD\r\uFFFD"},
	}
	for _, tt := range tests {
		if got := Cell(tt.in); got != tt.want {
			t.Errorf("Cell(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestQuotingAndLineEnds(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	w := NewWriter(&buf)
	if err := w.Write("First Name", "Last Name"); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(`O"Brien, Jr.`, "line\nbreak"); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	want := "First Name,Last Name\r\n\"O\"\"Brien, Jr.\",\"line\r\nbreak\"\r\n"
	if buf.String() != want {
		t.Fatalf("got %q\nwant %q", buf.String(), want)
	}
}

func FuzzWriter(f *testing.F) {
	for _, s := range []string{"Ada", "=1+1", "a,b", "\"q\"", "line\nbreak", "\r\n", "-", "＝1+1", "﹢", "\xff=", "\xef\r\xbc\x9d"} {
		f.Add(s, s+"x")
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		var buf bytes.Buffer
		w := NewWriter(&buf)
		if err := w.Write(a, b); err != nil {
			t.Fatal(err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(strings.NewReader(buf.String())).ReadAll()
		if err != nil {
			t.Fatalf("the writer made CSV its reader refuses: %v\n%q", err, buf.String())
		}
		if len(rows) != 1 || len(rows[0]) != 2 {
			t.Fatalf("%d rows from one: %q", len(rows), buf.String())
		}
		for i, in := range []string{a, b} {
			got := rows[0][i]
			// encoding/csv reads \r\n inside quotes as \n: compare without carriage returns.
			want := strings.ReplaceAll(Cell(in), "\r\n", "\n")
			if strings.ReplaceAll(got, "\r", "") != strings.ReplaceAll(want, "\r", "") {
				t.Fatalf("cell %d: wrote %q, read back %q", i, Cell(in), got)
			}
			if first := norm.NFKC.String(got); first != "" && strings.ContainsRune("=+-@\t\r", rune(first[0])) {
				t.Fatalf("cell %d starts with a formula trigger or a lookalike: %q", i, got)
			}
		}
	})
}
