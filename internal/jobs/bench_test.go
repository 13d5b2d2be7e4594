package jobs

import (
	"context"
	"testing"
	"time"

	"github.com/riverqueue/river"

	"github.com/dfslab/dfslab/internal/db"
	"github.com/dfslab/dfslab/internal/db/dbtest"
)

type noopArgs struct{}

func (noopArgs) Kind() string { return "jobs_bench_noop" }

// BenchmarkEnqueueToDone measures the queue's own cost with a job that does
// nothing, on each database: "latency" enqueues one job at a time and waits
// until it is recorded done (ns/op is the enqueue→done latency); "throughput"
// enqueues b.N jobs and waits for all of them (jobs/s).
func BenchmarkEnqueueToDone(b *testing.B) {
	for _, dialect := range []struct {
		name string
		open func(testing.TB) *db.DB
	}{{"sqlite", dbtest.SQLite}, {"postgres", dbtest.Postgres}} {
		b.Run(dialect.name, func(b *testing.B) {
			d := dialect.open(b)
			ctx := context.Background()
			if err := Migrate(ctx, d, quietLog()); err != nil {
				b.Fatal(err)
			}
			ws := NewWorkers()
			Handle(ws, func(context.Context, *Job[noopArgs]) error { return nil })
			q, err := New(d, ws, Config{Concurrency: 4, Logger: quietLog()})
			if err != nil {
				b.Fatal(err)
			}
			if err := q.Start(ctx); err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() {
				sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
				defer cancel()
				q.Stop(sctx)
			})
			// Completion events come after the job is recorded completed.
			events, unsubscribe := q.client.SubscribeConfig(&river.SubscribeConfig{
				Kinds: []river.EventKind{river.EventKindJobCompleted}, ChanSize: 1 << 20})
			defer unsubscribe()
			wait := func(b *testing.B, n int) {
				for range n {
					select {
					case <-events:
					case <-time.After(60 * time.Second):
						b.Fatal("no job completed for 60 s")
					}
				}
			}

			b.Run("latency", func(b *testing.B) {
				for b.Loop() {
					if _, err := q.Enqueue(ctx, nil, noopArgs{}, nil); err != nil {
						b.Fatal(err)
					}
					wait(b, 1)
				}
			})
			b.Run("throughput", func(b *testing.B) {
				start := time.Now()
				n := 0
				for b.Loop() {
					if _, err := q.Enqueue(ctx, nil, noopArgs{}, nil); err != nil {
						b.Fatal(err)
					}
					n++
				}
				wait(b, n)
				b.ReportMetric(float64(n)/time.Since(start).Seconds(), "jobs/s")
			})
		})
	}
}
