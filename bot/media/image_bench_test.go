//go:build unix

package media

import (
	"fmt"
	"runtime"
	"runtime/metrics"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/lianxin/lianxin/internal/wxtest/photos"
)

// The photo path before and after, side by side, on camera-like photos at
// the sizes residents send: 640x480 (the old benchmark's size), 1440x1080
// (WeChat's compressed copy) and 4032x3024 (a 12 MP original). BENCHMARKS.md
// has the figures and the command.
//
// Each size runs in two modes. serial: one photo at a time, for the CPU a
// photo costs (cpu-ms/photo, from getrusage, so the garbage collector's
// threads count) and the heap it needs (peak-MiB: the sampled high-water
// mark of live heap above what was live before). 2cores: two photos at a
// time, as many as this machine has cores, for throughput (photos/s).

// sanitizeOld is the path every photo took before the lossless JPEG one:
// decode, turn upright, encode again, thumbnail from the full image.
// Neither wrapper is inlined, so callgrind can count what runs inside it
// (BENCHMARKS.md).
//
//go:noinline
func sanitizeOld(data []byte, thumbMax, pixelLimit int) (*photo, error) {
	kind := sniffImage(data)
	cfg, err := decodeConfig(kind, data)
	if err != nil {
		return nil, err
	}
	if err := (&photoLimits{pixelLimit: pixelLimit}).checkPixels(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	return reencode(kind, data, thumbMax)
}

//go:noinline
func sanitizeNew(data []byte, thumbMax, pixelLimit int) (*photo, error) {
	return sanitize(data, thumbMax, pixelLimit)
}

var benchSizes = []struct{ w, h int }{{640, 480}, {1440, 1080}, {4032, 3024}}

func BenchmarkPhoto(b *testing.B) {
	for _, sz := range benchSizes {
		// Orientation 1: the old path's cheapest case (no turning), so the
		// comparison flatters it if anything. Made on first use (and
		// cached): a 12 MP photo takes a second to draw.
		camera := func() []byte { return photos.Camera(sz.w, sz.h, 1, 1) }
		for _, path := range []struct {
			name string
			fn   func([]byte, int, int) (*photo, error)
		}{{"old", sanitizeOld}, {"new", sanitizeNew}} {
			name := fmt.Sprintf("%dx%d/%s", sz.w, sz.h, path.name)
			b.Run(name+"/serial", func(b *testing.B) {
				data := camera()
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				cpu0 := cpuTime()
				for b.Loop() {
					if _, err := path.fn(data, DefaultThumbSize, maxPixels); err != nil {
						b.Fatal(err)
					}
				}
				cpu := cpuTime() - cpu0
				b.ReportMetric(float64(cpu.Microseconds())/1000/float64(b.N), "cpu-ms/photo")
				// The heap's high-water mark, sampled over three more photos
				// outside the timing: sampling every 200 µs preempts the
				// work enough to skew it. Not with -benchtime 1x, which is
				// for counting one photo's instructions under callgrind.
				if b.N > 1 {
					peak := startPeakHeap()
					for range 3 {
						path.fn(data, DefaultThumbSize, maxPixels)
					}
					b.ReportMetric(peak.stop(), "peak-MiB")
				}
			})
			b.Run(name+"/2cores", func(b *testing.B) {
				data := camera()
				defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(2))
				start := time.Now()
				b.SetParallelism(1) // 1 x GOMAXPROCS = 2 photos at a time
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						if _, err := path.fn(data, DefaultThumbSize, maxPixels); err != nil {
							b.Error(err)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "photos/s")
			})
		}
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakHeap samples the live heap every 200 µs until stopped.
type peakHeap struct {
	done       chan struct{}
	wg         sync.WaitGroup
	base, peak uint64
}

const heapMetric = "/memory/classes/heap/objects:bytes"

func heapNow() uint64 {
	s := []metrics.Sample{{Name: heapMetric}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

func startPeakHeap() *peakHeap {
	runtime.GC()
	p := &peakHeap{done: make(chan struct{}), base: heapNow()}
	p.wg.Go(func() {
		t := time.NewTicker(200 * time.Microsecond)
		defer t.Stop()
		for {
			select {
			case <-p.done:
				return
			case <-t.C:
				p.peak = max(p.peak, heapNow())
			}
		}
	})
	return p
}

// stop returns the peak above the base, in MiB.
func (p *peakHeap) stop() float64 {
	close(p.done)
	p.wg.Wait()
	p.peak = max(p.peak, heapNow())
	if p.peak < p.base {
		return 0
	}
	return float64(p.peak-p.base) / (1 << 20)
}
