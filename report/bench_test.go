package report_test

import (
	"context"
	"io"
	"os"
	"runtime"
	"runtime/metrics"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/registertest"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/report"
	"github.com/lianxin/lianxin/store"
)

// benchCases is the register's size for the export benchmark
// (LIANXIN_BENCH_CASES overrides the 100,000).
func benchCases() int {
	if n, err := strconv.Atoi(os.Getenv("LIANXIN_BENCH_CASES")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// bulkRegister is a register of n cases over a year, filled once per run.
func bulkRegister(b *testing.B, n int) (*store.DB, *report.Reporter) {
	b.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, testenv.DBPath(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	dir, cats, err := registertest.Data()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Now()
	now := registertest.At(11, 20, 0, 0)
	if _, err := registertest.Bulk(ctx, db, dir, cats, registertest.BulkOptions{Cases: n, From: now.AddDate(-1, 0, 0), To: now, Now: now, Seed: 1}); err != nil {
		b.Fatal(err)
	}
	b.Logf("filled a register of %d cases in %v", n, time.Since(start).Round(time.Millisecond))
	rep := report.New(report.Config{Register: db, Texts: texts(b), Directory: dir, Categories: cats, Location: registertest.CST,
		Now: func() time.Time { return now }})
	return db, rep
}

// peakHeap samples the live heap while f runs and returns its peak above
// what was live before, in bytes. runtime/metrics reads without stopping
// the world, so sampling every millisecond barely slows f.
func peakHeap(f func()) uint64 {
	runtime.GC()
	sample := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
	read := func() uint64 { metrics.Read(sample); return sample[0].Value.Uint64() }
	base := read()
	var peak uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(time.Millisecond)
		defer t.Stop()
		for {
			if v := read(); v > peak {
				peak = v
			}
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	f()
	close(done)
	wg.Wait()
	if peak < base {
		return 0
	}
	return peak - base
}

// liveSampler wraps the register and, every `every` rows streamed, collects
// garbage and records the live heap: what the export holds on to while
// rows flow, without the garbage the sampled peak also counts.
type liveSampler struct {
	report.Register
	every int
	peak  uint64
}

func (l *liveSampler) sample() {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	l.peak = max(l.peak, m.HeapAlloc)
}

func (l *liveSampler) RegisterRows(ctx context.Context, f lianxin.CaseFilter, fn func(*lianxin.RegisterRow) error) error {
	n := 0
	return l.Register.RegisterRows(ctx, f, func(r *lianxin.RegisterRow) error {
		if n++; n%l.every == 0 {
			l.sample()
		}
		return fn(r)
	})
}

// sampledWriter samples the live heap when the workbook starts being written
// (after every row has been streamed into it).
type sampledWriter struct {
	l    *liveSampler
	done bool
}

func (w *sampledWriter) Write(p []byte) (int, error) {
	if !w.done {
		w.done = true
		w.l.sample()
	}
	return len(p), nil
}

// BenchmarkExport100k exports the whole register (100,000 cases) to Excel
// and to CSV, and reports the time per export, the rows per second and the
// peak heap above the baseline: bounded memory means the peak does not grow
// with the register.
//
//	go test ./report -run '^$' -bench Export100k -benchtime 3x
func BenchmarkExport100k(b *testing.B) {
	n := benchCases()
	db, rep := bulkRegister(b, n)
	ctx := context.Background()
	dir, cats, _ := registertest.Data()
	live := &liveSampler{Register: db, every: 10_000}
	sampled := report.New(report.Config{Register: live, Texts: texts(b), Directory: dir, Categories: cats, Location: registertest.CST,
		Now: func() time.Time { return registertest.At(11, 20, 0, 0) }})
	for _, format := range []string{"xlsx", "csv"} {
		b.Run(format, func(b *testing.B) {
			var peak uint64
			var rows int
			for b.Loop() {
				p := peakHeap(func() {
					var err error
					if format == "xlsx" {
						rows, err = rep.WriteXLSX(ctx, io.Discard, lianxin.CaseFilter{}, report.ExportOptions{})
					} else {
						rows, err = rep.WriteCSV(ctx, io.Discard, lianxin.CaseFilter{}, report.ExportOptions{})
					}
					if err != nil {
						b.Fatal(err)
					}
				})
				peak = max(peak, p)
			}
			// Once more, collecting garbage every 10,000 rows to see the
			// live heap (slower: not timed).
			b.StopTimer()
			runtime.GC()
			var m runtime.MemStats
			runtime.ReadMemStats(&m)
			base := m.HeapAlloc
			live.peak = 0
			w := &sampledWriter{l: live}
			var err error
			if format == "xlsx" {
				_, err = sampled.WriteXLSX(ctx, w, lianxin.CaseFilter{}, report.ExportOptions{})
			} else {
				_, err = sampled.WriteCSV(ctx, w, lianxin.CaseFilter{}, report.ExportOptions{})
			}
			if err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
			if live.peak > base {
				b.ReportMetric(float64(live.peak-base)/(1<<20), "live-heap-MiB")
			} else {
				b.ReportMetric(0, "live-heap-MiB")
			}
			if rows != n {
				b.Fatalf("exported %d rows of %d", rows, n)
			}
			b.ReportMetric(float64(peak)/(1<<20), "peak-heap-MiB")
			b.ReportMetric(float64(rows)/(b.Elapsed().Seconds()/float64(b.N)), "rows/s")
		})
	}
}
