package media

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/png"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/lianxin/lianxin/internal/wxtest/photos"
)

// totalAlloc is the bytes the process has allocated so far.
func totalAlloc() uint64 {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.TotalAlloc
}

// noisePNG is a w x h PNG of random pixels: what compresses worst, so its
// re-encoded output is as large as it gets.
func noisePNG(t testing.TB, w, h int, wide bool) []byte {
	rng := rand.New(rand.NewPCG(uint64(w), uint64(h)))
	var img image.Image
	if wide {
		m := image.NewNRGBA64(image.Rect(0, 0, w, h))
		for i := range m.Pix {
			m.Pix[i] = byte(rng.Uint32())
		}
		img = m
	} else {
		m := image.NewNRGBA(image.Rect(0, 0, w, h))
		for i := range m.Pix {
			m.Pix[i] = byte(rng.Uint32())
		}
		img = m
	}
	var buf bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestSpeed}).Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestBombRefusedFromItsHeader: a 7000x7000 16-bit PNG (392 MB as
// NRGBA64, well over the 256 MiB budget) is refused from its header, with
// a reason a case worker can read, having allocated next to nothing; six
// at once too.
func TestBombRefusedFromItsHeader(t *testing.T) {
	bomb := photos.BlankPNG(7000, 7000, true)
	before := totalAlloc()
	_, err := sanitize(bomb, DefaultThumbSize, maxPixels)
	allocated := totalAlloc() - before
	var rj *rejectError
	if !errors.As(err, &rj) {
		t.Fatalf("not refused: %v", err)
	}
	t.Logf("reason: %s (%d bytes allocated)", rj.reason, allocated)
	for _, want := range []string{"7000x7000", "16-bit PNG", "MiB of memory", "more than the 256 MiB allowed for photos"} {
		if !strings.Contains(rj.reason, want) {
			t.Errorf("reason %q lacks %q", rj.reason, want)
		}
	}
	if allocated > 1<<20 {
		t.Errorf("refusing it allocated %d bytes", allocated)
	}

	l := newPhotoLimits(DefaultThumbSize, maxPixels, 6, DefaultPhotoMemory)
	before = totalAlloc()
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			var rj *rejectError
			if _, err := l.sanitize(context.Background(), bomb); !errors.As(err, &rj) {
				t.Errorf("not refused: %v", err)
			}
		})
	}
	wg.Wait()
	if allocated := totalAlloc() - before; allocated > 6<<20 {
		t.Errorf("six refusals allocated %d bytes", allocated)
	}
}

// TestSixAtOnceWithinBudget: six large PNGs arriving together are processed
// a few at a time, as many as the budget holds, and the heap stays within
// it; without a budget it would not.
func TestSixAtOnceWithinBudget(t *testing.T) {
	data := noisePNG(t, 500, 400, false)
	const limit = 20 << 20
	probe := newPhotoLimits(DefaultThumbSize, maxPixels, 6, limit)
	job, err := probe.plan(data)
	if err != nil {
		t.Fatal(err)
	}
	if job.cost*2 > limit || job.cost*3 <= limit {
		t.Fatalf("cost %d: the test wants two to fit in %d, not three", job.cost, limit)
	}
	// A low GC target, so the heap measured is mostly live data rather
	// than garbage awaiting collection.
	defer debug.SetGCPercent(debug.SetGCPercent(10))

	run := func(budget int64) (reservedPeak int64, heapPeak uint64) {
		l := newPhotoLimits(DefaultThumbSize, maxPixels, 6, budget)
		runtime.GC()
		peak := startPeakHeap()
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				if _, err := l.sanitize(context.Background(), data); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		return l.mem.peakUse(), uint64(peak.stop() * (1 << 20))
	}
	reserved, heap := run(limit)
	t.Logf("cost %.1f MiB each; with a %d MiB budget: %.1f MiB reserved at most, heap peak %.1f MiB",
		float64(job.cost)/(1<<20), limit>>20, float64(reserved)/(1<<20), float64(heap)/(1<<20))
	if reserved > limit {
		t.Errorf("reserved %d at once, over the budget of %d", reserved, limit)
	}
	// The reservations bound the live heap (TestCostCoversAllocations);
	// what the sampler sees adds garbage the collector has not yet freed.
	if heap > limit+limit/2 {
		t.Errorf("heap grew by %d, budget %d", heap, limit)
	}
	if !raceEnabled { // the same six without a budget; slow under the race detector
		_, unbounded := run(1 << 40)
		t.Logf("without a budget: heap peak %.1f MiB", float64(unbounded)/(1<<20))
		if heap*5 > unbounded*4 {
			t.Errorf("the budget made little difference: heap peak %d with it, %d without", heap, unbounded)
		}
	}
}

// TestCostCoversAllocations: what a photo reserves is at least what
// processing it allocates, on every path, so reservations bound the heap.
func TestCostCoversAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector changes what allocates")
	}
	var gifBuf bytes.Buffer
	pal := image.NewPaletted(image.Rect(0, 0, 640, 480), color.Palette{color.Black, color.White, color.RGBA{200, 0, 0, 255}})
	for i := range pal.Pix {
		pal.Pix[i] = byte(i * 7 % 3)
	}
	gif.Encode(&gifBuf, pal, nil)
	webpLossy, _ := base64.StdEncoding.DecodeString("UklGRiIAAABXRUJQVlA4IBYAAAAwAQCdASoBAAEADsD+JaQAA3AAAAAA")
	inputs := map[string][]byte{
		"camera 640x480":          photos.Camera(640, 480, 1, 1),
		"camera 1440x1080 turned": photos.Camera(1440, 1080, 6, 1),
		"camera 2000x1500":        photos.Camera(2000, 1500, 3, 1),
		"8-bit PNG":               noisePNG(t, 500, 400, false),
		"16-bit PNG":              noisePNG(t, 300, 200, true),
		"GIF":                     gifBuf.Bytes(),
		"WebP":                    webpLossy,
	}
	for name, b := range goTestdata(t) {
		inputs[name] = b
	}
	l := newPhotoLimits(DefaultThumbSize, maxPixels, 1, DefaultPhotoMemory)
	for name, data := range inputs {
		job, err := l.plan(data)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		runtime.GC()
		before := totalAlloc()
		if _, err := job.run(); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		used := totalAlloc() - before
		if int64(used) > job.cost {
			t.Errorf("%s (%s): allocated %d, reserved %d", name, job.what, used, job.cost)
		} else if testing.Verbose() {
			t.Logf("%s (%s): allocated %d, reserved %d", name, job.what, used, job.cost)
		}
	}
}

// TestCPUSlots: however many photos arrive at once, no more are processed
// together than the CPU slots allow.
func TestCPUSlots(t *testing.T) {
	data := photos.Camera(640, 480, 1, 2)
	for _, slots := range []int{1, 2} {
		l := newPhotoLimits(DefaultThumbSize, maxPixels, slots, DefaultPhotoMemory)
		var wg sync.WaitGroup
		for range 6 {
			wg.Go(func() {
				if _, err := l.sanitize(context.Background(), data); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()
		if b := int(l.busiest.Load()); b > slots || b < 1 {
			t.Errorf("%d slots: %d photos at once", slots, b)
		}
	}
}

func TestDefaultPhotoCPU(t *testing.T) {
	dir := t.TempDir()
	for content, want := range map[string]float64{
		"max 100000\n": 0, "150000 100000\n": 1.5, "400000 100000": 4, "garbage": 0, "0 100000": 0,
	} {
		p := filepath.Join(dir, "cpu.max")
		os.WriteFile(p, []byte(content), 0o600)
		got, ok := cgroupCPUQuota(p)
		if ok != (want > 0) || got != want {
			t.Errorf("%q: %v, %v; want %v", content, got, ok, want)
		}
	}
	if _, ok := cgroupCPUQuota(filepath.Join(dir, "absent")); ok {
		t.Error("a missing file gave a quota")
	}
	n := defaultPhotoCPU()
	if n < 1 || (runtime.NumCPU() > 1 && n > runtime.NumCPU()-1) {
		t.Errorf("defaultPhotoCPU = %d with %d CPUs", n, runtime.NumCPU())
	}
}

// TestBudgetQueue: reservations are granted in order, a large one is not
// overtaken by small ones, and one given up leaves the queue.
func TestBudgetQueue(t *testing.T) {
	b := newBudget(10)
	ctx := context.Background()
	if err := b.acquire(ctx, 6); err != nil {
		t.Fatal(err)
	}
	waitQueued := func(n int) {
		for {
			b.mu.Lock()
			l := b.waiters.Len()
			b.mu.Unlock()
			if l == n {
				return
			}
			runtime.Gosched()
		}
	}
	bigCtx, cancelBig := context.WithCancel(ctx)
	bigDone := make(chan error)
	go func() { bigDone <- b.acquire(bigCtx, 6) }()
	waitQueued(1)
	smallDone := make(chan error)
	go func() { smallDone <- b.acquire(ctx, 1) }()
	waitQueued(2)
	select {
	case <-smallDone:
		t.Fatal("a small reservation overtook the large one before it")
	default:
	}
	cancelBig()
	if err := <-bigDone; !errors.Is(err, context.Canceled) {
		t.Fatalf("given up: %v", err)
	}
	if err := <-smallDone; err != nil {
		t.Fatal(err)
	}
	b.release(1)
	b.release(6)
	if b.used != 0 || b.peakUse() != 7 {
		t.Errorf("used %d, peak %d", b.used, b.peakUse())
	}
	// A waiter whose context ends while it waits leaves nothing reserved.
	if err := b.acquire(ctx, 10); err != nil {
		t.Fatal(err)
	}
	late, cancelLate := context.WithCancel(ctx)
	lateDone := make(chan error)
	go func() { lateDone <- b.acquire(late, 5) }()
	waitQueued(1)
	cancelLate()
	if err := <-lateDone; err == nil {
		t.Fatal("granted while the budget was full")
	}
	b.release(10)
	if err := b.acquire(ctx, 10); err != nil {
		t.Fatal(err)
	}
	b.release(10)
}
