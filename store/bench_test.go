package store

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

// BenchmarkJournal measures the journal as the webhook uses it: 32 concurrent
// writers, two in three commit-only and one durable, reporting the process
// CPU per record (the figure that limits throughput on a small machine).
// With its nonce (the replay guard's memory, as the webhook writes it for
// a plaintext request) and without (an encrypted request), to show what
// that costs.
func BenchmarkJournal(b *testing.B) {
	for _, withNonce := range []bool{true, false} {
		name := "nonce"
		if !withNonce {
			name = "no-nonce"
		}
		b.Run(name, func(b *testing.B) { benchmarkJournal(b, withNonce) })
	}
}

func benchmarkJournal(b *testing.B, withNonce bool) {
	db, err := Open(context.Background(), testenv.DBPath(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var seq atomic.Int64
	cpu0 := processCPUTime()
	start := time.Now()
	b.ResetTimer()
	var wg sync.WaitGroup
	per := (b.N + 31) / 32
	for w := 0; w < 32; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < per; i++ {
				n := seq.Add(1)
				m := &lianxin.Inbound{Account: "gh", OpenID: fmt.Sprintf("oBenchResident%05d", w), Kind: lianxin.KindText, MsgID: n, CreateTime: 1, Text: "3号楼暖气不热"}
				write := db.JournalCommitted
				if n%3 == 0 {
					write = db.Journal
				}
				// As the webhook journals: with the request's nonce.
				var nonce *lianxin.Nonce
				if withNonce {
					nonce = &lianxin.Nonce{Key: fmt.Sprintf("1700000000:%d", n), Hash: "0123456789abcdef0123456789abcdef", Until: time.Now().Add(5 * time.Minute)}
				}
				if _, err := write(context.Background(), m, lianxin.OutcomeReplied, "【选择类别】请回复数字", nonce); err != nil {
					b.Error(err)
					return
				}
			}
		}(w)
	}
	wg.Wait()
	el := time.Since(start)
	b.StopTimer()
	n := float64(per * 32)
	b.ReportMetric(float64(processCPUTime()-cpu0)/n/1e3, "cpu-µs/op")
	b.ReportMetric(n/el.Seconds(), "records/s")
	ws := db.WriterStats()
	b.ReportMetric(float64(ws.Writes.Load())/float64(max(ws.Groups.Load(), 1)), "writes/group")
	b.ReportMetric(float64(ws.Syncs.Load()), "syncs")
}

func processCPUTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

// BenchmarkCreateCase registers cases the way the report flow does, with an
// assigner that reads open counts and the last assignee of a station and its
// two points, on a register that grows as it runs.
func BenchmarkCreateCase(b *testing.B) {
	db, err := Open(context.Background(), testenv.DBPath(b))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	num := lianxin.CaseNumbering{Prefix: "KQ", Location: time.UTC}
	deputies := []string{"d1", "d2", "d3", "d4", "d5", "d6", "d7"}
	units := []string{"pingtanjie", "shuitan", "dongyaofang"}
	var seq atomic.Int64
	assign := func(v lianxin.AssignView, _ string) (lianxin.Assignment, error) {
		open, err := v.OpenCounts(deputies)
		if err != nil {
			return lianxin.Assignment{}, err
		}
		last, err := v.LastAssignee(units)
		if err != nil {
			return lianxin.Assignment{}, err
		}
		best := deputies[0]
		for _, d := range deputies {
			if open[d] < open[best] && d != last {
				best = d
			}
		}
		return lianxin.Assignment{AssigneeID: best}, nil
	}
	cpu0 := processCPUTime()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			r := report(fmt.Sprintf("oBench%d", n%64), fmt.Sprintf("gh:bench:%d", n))
			if _, _, err := db.CreateCase(context.Background(), num, r, nil, nil, assign); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(processCPUTime()-cpu0)/float64(b.N)/1e3, "cpu-µs/op")
}
