package main

import (
	"bytes"
	"strings"
	"testing"
)

// testdata/users-postgres.txt is the output of a real run:
// go test -tags bench -run '^$' -bench BenchmarkUsersPage -benchtime 30x -count 3 ./handlers/
// on PostgreSQL (a loaded machine: the times are high, the ratios are what counts).
func TestTableOfRealOutput(t *testing.T) {
	var out bytes.Buffer
	if err := run([]string{"testdata/users-postgres.txt"}, nil, &out); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"| work | db | Onramp | raw | baseline | ratio | spread | target |",
		// The medians of 15.66, 13.90 and 7.52 ms; of 14.95, 5.98 and 5.91 ms; of the ratios
		// 1.048, 2.323 and 1.273, whose spread is min–max.
		"| UsersPage/users=1000000/first | postgres | 13.9ms | 5.98ms | stmts | 1.27 | 1.05–2.32 | ≤1.5 ok |",
		"| UsersPage/users=1000000/page500 | postgres | 28.5ms | 21.7ms | stmts | 1.33 | 1.07–1.48 | ≤1.5 ok |",
		"4 of 4 targets met",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in\n%s", want, got)
		}
	}
	if n := strings.Count(got, "\n| UsersPage"); n != 4 {
		t.Errorf("%d rows, want one per page (4):\n%s", n, got)
	}
}

func TestRowsOfEachDatabaseSideBySide(t *testing.T) {
	const input = `BenchmarkUsersPage/db=postgres/users=10/first-2 	 10	 2000000 ns/op	 1000000 stmts-raw-ns/op	 2.0 x_stmts
BenchmarkUsersPage/db=postgres/users=10/search-2 	 10	 1000000 ns/op	 1000000 stmts-raw-ns/op	 1.0 x_stmts
    bench_test.go:140: seeding 10 users into bench (once)…
BenchmarkUsersPage/db=sqlite/users=10/first-2 	 10	 3000000 ns/op	 1000000 stmts-raw-ns/op	 3.0 x_stmts
BenchmarkUsersPage/db=sqlite/users=10/search-2 	 10	 1000000 ns/op	 1000000 stmts-raw-ns/op	 1.0 x_stmts
BenchmarkRedemption/db=postgres-2 	 1	 5000000 onramp-ns/op	 2000000 a-raw-ns/op	 2.5 x_a	 4000000 c-raw-ns/op	 1.25 x_c	 12.0 p99-ms
BenchmarkBulkAction/db=postgres-2 	 1	 30000000000 ns/op	 20000000000 raw-ns/op	 1.5 x_raw
BenchmarkValidate/everyday-2 	 1000	 500000 ns/op
PASS
`
	var out bytes.Buffer
	err := run([]string{"-strict"}, strings.NewReader(input), &out)
	if err == nil {
		t.Errorf("-strict: no error with a missed target:\n%s", out.String())
	}
	want := `| UsersPage/users=10/first | postgres | 2ms | 1ms | stmts | 2.00 | 2.00–2.00 | ≤1.5 FAIL |
| UsersPage/users=10/first | sqlite | 3ms | 1ms | stmts | 3.00 | 3.00–3.00 | (≤1.5) |
| UsersPage/users=10/search | postgres | 1ms | 1ms | stmts | 1.00 | 1.00–1.00 | ≤1.5 ok |
| UsersPage/users=10/search | sqlite | 1ms | 1ms | stmts | 1.00 | 1.00–1.00 | (≤1.5) |
| Redemption | postgres | 5ms | 2ms | a | 2.50 | 2.50–2.50 | ≤3 ok |
| Redemption | postgres | 5ms | 4ms | c | 1.25 | 1.25–1.25 | ≤1.3 ok |
| BulkAction | postgres | 30s | 20s | raw | 1.50 | 1.50–1.50 |  |

3 of 4 targets met`
	if !strings.Contains(out.String(), want) {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}

func TestNoBaselineIsAnError(t *testing.T) {
	var out bytes.Buffer
	err := run(nil, strings.NewReader("BenchmarkValidate/everyday-2 \t 1000\t 500000 ns/op\nPASS\n"), &out)
	if err == nil || !strings.Contains(err.Error(), "no benchmark with a raw baseline") {
		t.Errorf("err = %v", err)
	}
}
