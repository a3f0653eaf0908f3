//go:build bench

package handlers_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"onramp/models"
	"onramp/models/stream"
)

// streamEvents is how many events one iteration streams.
const streamEvents = 2000

// BenchmarkStreamWebhookDelivery: events written in one transaction until a local webhook
// receiver has accepted each (trigger, job, signing, one POST each, the delivery log) against the
// same number of signed POSTs of the same bodies made directly to the same receiver, one after
// the other as delivery does. x_webhook = product time / raw time.
func BenchmarkStreamWebhookDelivery(b *testing.B) {
	a := newAppOn(b, freshBenchStore(b), withStreaming)
	boss := a.createAdmin("acme", "ada@bench.test", models.RoleAdmin)
	var got atomic.Int64
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got.Add(1)
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer recv.Close()
	ctx := context.Background()
	created, err := a.Stream.Create(ctx, boss.AccountID, models.AdminActor(boss, "127.0.0.1"),
		stream.Input{Kind: models.StreamWebhook, Name: "bench", URL: recv.URL, Filters: []string{"User"}})
	if err != nil {
		b.Fatal(err)
	}
	a.startJobs()
	events := func(i int) []*models.Event {
		es := make([]*models.Event, streamEvents)
		for j := range es {
			es[j] = models.NewEvent(&boss.AccountID, models.EventUser, models.SubUserCreated, models.AdminActor(boss, "127.0.0.1"),
				fmt.Sprintf("u%d-%05d@bench.test", i, j), map[string]string{"reason": "bench"})
		}
		return es
	}
	client := &http.Client{Timeout: 10 * time.Second}
	var rawTime time.Duration
	b.ResetTimer()
	for i := range b.N {
		start := got.Load()
		if err := a.store.CreateEvents(ctx, events(i)); err != nil {
			b.Fatal(err)
		}
		for got.Load() < start+streamEvents {
			time.Sleep(time.Millisecond)
		}
		b.StopTimer()
		// The raw baseline: the same bodies, signed, posted one after the other.
		es := events(i)
		t0 := time.Now()
		for j, e := range es {
			e.ID, e.OccurredAt = int64(j+1), time.Now().UTC()
			body, _ := json.Marshal(stream.NewPayload("acme", e))
			req, _ := http.NewRequest(http.MethodPost, recv.URL, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set(stream.HeaderEventID, strconv.FormatInt(e.ID, 10))
			req.Header.Set(stream.HeaderSignature, stream.Sign(created.Secret, time.Now(), body))
			res, err := client.Do(req)
			if err != nil {
				b.Fatal(err)
			}
			_, _ = io.Copy(io.Discard, res.Body)
			res.Body.Close()
		}
		rawTime += time.Since(t0)
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N * streamEvents)
	b.ReportMetric(n/b.Elapsed().Seconds(), "events/s")
	b.ReportMetric(n/rawTime.Seconds(), "raw-events/s")
	b.ReportMetric(float64(rawTime.Nanoseconds())/float64(b.N), "webhook-raw-ns/op")
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rawTime.Nanoseconds()), "x_webhook")
}
