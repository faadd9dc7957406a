package queue

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestDrainBoundsConcurrencyAndClaimsWhatFinishingFrees: never more than
// slots in flight, everything due processed, and work made due by a finished
// item (the next message to the same recipient) taken in the same pass.
func TestDrainBoundsConcurrencyAndClaimsWhatFinishingFrees(t *testing.T) {
	var mu sync.Mutex
	due := []int{1, 2, 3, 4, 5, 6, 7}
	var inflight, peak atomic.Int32
	claim := func(_ context.Context, n int) ([]int, error) {
		mu.Lock()
		defer mu.Unlock()
		n = min(n, len(due))
		out := append([]int(nil), due[:n]...)
		due = due[n:]
		return out, nil
	}
	release := make(chan struct{})
	finished := make(chan int, 8)
	process := func(_ context.Context, it int) {
		cur := inflight.Add(1)
		for {
			p := peak.Load()
			if cur <= p || peak.CompareAndSwap(p, cur) {
				break
			}
		}
		if it == 1 {
			<-release // hold one slot until others have run
		}
		if it == 7 {
			mu.Lock()
			due = append(due, 8) // finishing 7 makes 8 due
			mu.Unlock()
		}
		inflight.Add(-1)
		finished <- it
	}
	go func() {
		// Item 1 holds its slot until 2..7 have gone through the other two.
		for range 6 {
			<-finished
		}
		close(release)
	}()
	n, err := Drain(context.Background(), 3, claim, process)
	if err != nil || n != 8 {
		t.Fatalf("Drain = %d, %v; want 8", n, err)
	}
	if p := peak.Load(); p > 3 {
		t.Errorf("%d in flight at once, limit 3", p)
	}
}

func TestDrainStopsOnClaimError(t *testing.T) {
	boom := errors.New("database is locked")
	calls := 0
	n, err := Drain(context.Background(), 2, func(context.Context, int) ([]int, error) {
		calls++
		if calls == 1 {
			return []int{1}, nil
		}
		return nil, boom
	}, func(context.Context, int) {})
	if !errors.Is(err, boom) || n != 1 {
		t.Errorf("Drain = %d, %v", n, err)
	}
}

func TestDrainCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := Drain(ctx, 2, func(context.Context, int) ([]int, error) {
		t.Error("claimed after cancel")
		return nil, nil
	}, func(context.Context, int) {})
	if n != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("Drain = %d, %v", n, err)
	}
}

func TestBackoff(t *testing.T) {
	base, limit := 5*time.Second, 30*time.Minute
	for attempts, want := range map[int]time.Duration{1: 5 * time.Second, 2: 10 * time.Second, 3: 20 * time.Second, 10: limit, 100: limit} {
		lo := Backoff(attempts, base, limit, func() float64 { return 0 })
		hi := Backoff(attempts, base, limit, func() float64 { return 0.999999 })
		if lo != want/2 || hi < want*99/100 || hi > want {
			t.Errorf("attempt %d: %v..%v, want %v..%v", attempts, lo, hi, want/2, want)
		}
	}
}

// A worker configured with only some pacing fields keeps those and takes
// its own defaults for the rest; a retry cap below the base is raised, so
// backoff never shrinks.
func TestPacingWithDefaults(t *testing.T) {
	def := Pacing{Lease: 2 * time.Minute, Interval: 5 * time.Second, RetryBase: 30 * time.Second, RetryMax: time.Hour}
	p := Pacing{Interval: time.Hour, RetryBase: 2 * time.Hour}.WithDefaults("media", def)
	if p.Lease != def.Lease || p.Interval != time.Hour || p.RetryBase != 2*time.Hour || p.RetryMax != 2*time.Hour {
		t.Errorf("pacing %+v", p)
	}
	if !strings.Contains(p.Owner, ":media:") || p.Now == nil || p.Log == nil {
		t.Errorf("owner %q, clock or log missing", p.Owner)
	}
	z := Pacing{}.WithDefaults("outbox", def)
	if z.Lease != def.Lease || z.Interval != def.Interval || z.RetryBase != def.RetryBase || z.RetryMax != def.RetryMax {
		t.Errorf("zero pacing became %+v", z)
	}
}
