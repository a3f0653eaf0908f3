// Command benchtable reads the output of `go test -bench … -count N` (files named as arguments,
// else standard input) and prints one Markdown table of every benchmark that reports a raw
// baseline: the work, Onramp's time, the baseline's, their ratio (the median over the
// repetitions), the spread of that ratio (min–max) and the target with a mark.
//
// The metric convention (docs/benchmarks.md): a benchmark reports its own time as ns/op (or
// onramp-ns/op), and for each raw baseline X the time X-raw-ns/op and the ratio x_X (Onramp /
// baseline, measured in the same run). The older pair raw-ns/op and x_raw is baseline "raw".
//
// It reads the format with golang.org/x/perf/benchfmt, the Go team's parser of benchmark
// output, rather than splitting lines by hand: log lines between results, the -N suffix of
// GOMAXPROCS and the units are its business.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"golang.org/x/perf/benchfmt"
)

// target is a ratio of the (issue 12) that a benchmark's baseline must stay under:
// bench is a part of the benchmark's name.
type target struct {
	bench, baseline string
	max             float64
}

var targets = []target{
	{"Redemption", "c", 1.3},
	{"Redemption", "a", 3},
	{"CodesGenerate", "writes", 1.3},
	{"CodesGenerate", "codes", 2.5},
	{"UsersPage", "stmts", 1.5},
	{"EventsPage", "stmts", 1.5},
}

// targetsDB is the database the targets are set on; other databases' rows show the target in
// brackets, unmarked.
const targetsDB = "postgres"

// series is the repetitions of one benchmark.
type series struct {
	name   string
	values map[string][]float64 // unit as reported → one value per repetition
}

// row is one line of the table: a benchmark against one of its baselines.
type row struct {
	work, db, baseline string
	onramp, raw, ratio float64
	low, high          float64
	target             *target
}

var procs = regexp.MustCompile(`-\d+$`)

// read collects the results of r, in the order the benchmarks first appear, into all (by name).
func read(r io.Reader, file string, all []*series) ([]*series, error) {
	br := benchfmt.NewReader(r, file)
	for br.Scan() {
		res, ok := br.Result().(*benchfmt.Result)
		if !ok {
			continue // a syntax error is a line that is not a result: logs, PASS, ok
		}
		name := procs.ReplaceAllString(res.Name.String(), "")
		i := slices.IndexFunc(all, func(s *series) bool { return s.name == name })
		if i < 0 {
			all = append(all, &series{name: name, values: map[string][]float64{}})
			i = len(all) - 1
		}
		for _, v := range res.Values {
			unit, val := v.Unit, v.Value
			if v.OrigUnit != "" {
				unit, val = v.OrigUnit, v.OrigValue
			}
			all[i].values[unit] = append(all[i].values[unit], val)
		}
	}
	return all, br.Err()
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s) == 0 {
		return 0
	}
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// rows turns the series into the table's rows, a row per baseline of each benchmark, the
// rows of one work on every database next to each other.
func rows(all []*series) []row {
	var out []row
	for _, s := range all {
		own := s.values["onramp-ns/op"]
		if own == nil {
			own = s.values["ns/op"]
		}
		var baselines []string
		for unit := range s.values {
			if x, ok := strings.CutPrefix(unit, "x_"); ok && s.values[rawUnit(x)] != nil {
				baselines = append(baselines, x)
			}
		}
		slices.Sort(baselines)
		work, db := split(s.name)
		for _, x := range baselines {
			ratios := s.values["x_"+x]
			r := row{work: work, db: db, baseline: x, onramp: median(own), raw: median(s.values[rawUnit(x)]),
				ratio: median(ratios), low: slices.Min(ratios), high: slices.Max(ratios)}
			for i, t := range targets {
				if t.baseline == x && strings.Contains(s.name, t.bench) {
					r.target = &targets[i]
				}
			}
			out = append(out, r)
		}
	}
	// The same work on each database side by side, in the order the work first appears.
	first := map[string]int{}
	for i, r := range out {
		if _, ok := first[r.work+"\x00"+r.baseline]; !ok {
			first[r.work+"\x00"+r.baseline] = i
		}
	}
	slices.SortStableFunc(out, func(a, b row) int {
		return first[a.work+"\x00"+a.baseline] - first[b.work+"\x00"+b.baseline]
	})
	return out
}

// rawUnit is the unit of baseline x's time: X-raw-ns/op, or raw-ns/op for the older "raw".
func rawUnit(x string) string {
	if x == "raw" {
		return "raw-ns/op"
	}
	return x + "-raw-ns/op"
}

// split takes the db=… part out of a benchmark's name: "UsersPage/users=1000000/first", "postgres".
func split(name string) (work, db string) {
	parts := strings.Split(strings.TrimPrefix(name, "Benchmark"), "/")
	kept := parts[:0]
	for _, p := range parts {
		if v, ok := strings.CutPrefix(p, "db="); ok {
			db = v
			continue
		}
		kept = append(kept, p)
	}
	return strings.Join(kept, "/"), db
}

// duration writes nanoseconds as a rounded time: 812µs, 3.46ms, 11.4s.
func duration(ns float64) string {
	d := time.Duration(ns)
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond).String()
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond).String()
	}
	return d.Round(time.Microsecond).String()
}

func ratio(f float64) string { return strconv.FormatFloat(f, 'f', 2, 64) }

// writeTable writes the table and returns how many targets were missed.
func writeTable(w io.Writer, rs []row) int {
	missed, met := 0, 0
	fmt.Fprintln(w, "| work | db | Onramp | raw | baseline | ratio | spread | target |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|---|")
	for _, r := range rs {
		tgt := ""
		if r.target != nil {
			limit := "≤" + strconv.FormatFloat(r.target.max, 'g', -1, 64)
			switch {
			case r.db != "" && r.db != targetsDB:
				tgt = "(" + limit + ")"
			case r.ratio <= r.target.max:
				tgt, met = limit+" ok", met+1
			default:
				tgt, missed = limit+" FAIL", missed+1
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s | %s–%s | %s |\n", r.work, r.db, duration(r.onramp), duration(r.raw),
			r.baseline, ratio(r.ratio), ratio(r.low), ratio(r.high), tgt)
	}
	if met+missed > 0 {
		fmt.Fprintf(w, "\n%d of %d targets met (%s; ratio = median over the repetitions).\n", met, met+missed, targetsDB)
	}
	return missed
}

func run(args []string, stdin io.Reader, stdout io.Writer) error {
	fs := flag.NewFlagSet("benchtable", flag.ContinueOnError)
	strict := fs.Bool("strict", false, "exit with status 1 when a target is missed")
	fs.SetOutput(stdout)
	if err := fs.Parse(args); err != nil {
		return err
	}
	var all []*series
	var err error
	if fs.NArg() == 0 {
		all, err = read(stdin, "stdin", nil)
	}
	for _, name := range fs.Args() {
		data, rerr := os.ReadFile(name)
		if rerr != nil {
			return rerr
		}
		if all, err = read(bytes.NewReader(data), name, all); err != nil {
			break
		}
	}
	if err != nil {
		return err
	}
	rs := rows(all)
	if len(rs) == 0 {
		return errors.New("benchtable: no benchmark with a raw baseline (x_X and X-raw-ns/op) in the input")
	}
	if writeTable(stdout, rs) > 0 && *strict {
		return errors.New("benchtable: targets missed")
	}
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
