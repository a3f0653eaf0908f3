// Package loadgen drives concurrent load for the benchmarks: a fixed number of clients, each
// taking the next unit of work as soon as its last one is done, with every unit's latency
// recorded. HTTP runs a list of requests over real TCP connections kept alive between requests
// (one per client), as VPN clients or a load balancer would; Func runs any other work (the raw
// SQL baselines) with the same clients, so that both are measured the same way.
package loadgen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// Result is the outcome of a run.
type Result struct {
	// Latencies holds every unit's time, in no particular order.
	Latencies []time.Duration
	// Elapsed is the wall time from the first unit's start to the last one's end.
	Elapsed time.Duration
}

// PerOp is the wall time per unit: the inverse of the throughput.
func (r Result) PerOp() time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	return r.Elapsed / time.Duration(len(r.Latencies))
}

// PerSecond is the throughput.
func (r Result) PerSecond() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(len(r.Latencies)) / r.Elapsed.Seconds()
}

// Percentile is the latency below which a fraction p (0.99 for the p99) of the units finished.
func (r Result) Percentile(p float64) time.Duration {
	if len(r.Latencies) == 0 {
		return 0
	}
	s := slices.Clone(r.Latencies)
	slices.Sort(s)
	return s[min(len(s)-1, int(float64(len(s))*p))]
}

// Func runs work(0) … work(n-1) with clients concurrent workers. It stops handing out work at
// the first error or when ctx ends, and returns that error.
func Func(ctx context.Context, clients, n int, work func(ctx context.Context, i int) error) (Result, error) {
	if clients < 1 {
		return Result{}, fmt.Errorf("loadgen: %d clients", clients)
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	next := make(chan int)
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				t0 := time.Now()
				if err := work(ctx, i); err != nil {
					cancel(err)
					continue
				}
				lat[c] = append(lat[c], time.Since(t0))
			}
		}()
	}
feed:
	for i := range n {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	res := Result{Latencies: slices.Concat(lat...), Elapsed: time.Since(start)}
	if err := context.Cause(ctx); err != nil {
		return res, err
	}
	return res, nil
}

// Request is one HTTP request of a run and the status it must get.
type Request struct {
	Method, URL string
	Header      http.Header
	Body        []byte
	Want        int
}

// Client is an HTTP client for clients concurrent connections to one server, each kept alive
// between requests. With sources, the connections come from those local addresses in turn
// (on loopback any of 127.0.0.0/8), so that a server that budgets per address sees
// len(sources) clients, as it would see VPN clients each from its own address.
func Client(clients int, sources ...net.IP) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	var next atomic.Uint64
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		d := *dialer
		if len(sources) > 0 {
			d.LocalAddr = &net.TCPAddr{IP: sources[(next.Add(1)-1)%uint64(len(sources))]}
		}
		return d.DialContext(ctx, network, addr)
	}
	return &http.Client{Transport: &http.Transport{
		DialContext:         dial,
		MaxIdleConns:        clients,
		MaxIdleConnsPerHost: clients,
		MaxConnsPerHost:     clients,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}}
}

// Loopback is n addresses of 127.0.0.0/8 from 127.0.0.2, for Client's sources.
func Loopback(n int) []net.IP {
	out := make([]net.IP, n)
	for i := range out {
		out[i] = net.IPv4(127, 0, byte((i+2)>>8), byte((i+2)&0xff))
	}
	return out
}

// HTTP sends reqs with clients concurrent keep-alive connections of hc (see Client). A response
// with another status than its request's Want is an error that stops the run; its body, which
// says why, is quoted in it.
func HTTP(ctx context.Context, hc *http.Client, clients int, reqs []Request) (Result, error) {
	return Func(ctx, clients, len(reqs), func(ctx context.Context, i int) error {
		r := reqs[i]
		req, err := http.NewRequestWithContext(ctx, r.Method, r.URL, bytes.NewReader(r.Body))
		if err != nil {
			return err
		}
		for k, v := range r.Header {
			req.Header[k] = v
		}
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		// Read to the end, so that the connection goes back to the pool for the next request.
		body, err := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != r.Want {
			return fmt.Errorf("loadgen: %s %s: %d, want %d: %.200s", r.Method, r.URL, resp.StatusCode, r.Want, body)
		}
		return nil
	})
}

// Add appends the units of another run to r: the latencies of both, and their wall times added
// (the runs happened one after the other).
func (r *Result) Add(o Result) {
	r.Latencies = append(r.Latencies, o.Latencies...)
	r.Elapsed += o.Elapsed
}
