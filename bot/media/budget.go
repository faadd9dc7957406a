package media

import (
	"container/list"
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// The shares of the machine photo work may take. Downloads are cheap and
// many run at once (Config.Concurrency); decoding is not, and is limited
// twice over:
//
//   - by memory: before a photo is decoded its header says how many pixels it
//     has, and the bytes its decode will take are reserved from a budget
//     (Config.PhotoMemory, 256 MiB by default) that all photos in flight
//     share. A photo waits until its share is free, so a burst of large
//     photos queues instead of running the process out of memory, and one
//     that alone needs more than the whole budget is refused with a reason.
//   - by CPU: at most Config.PhotoCPU photos are decoded at once, by default
//     one fewer than the CPUs the process may use (at least one), counting a
//     cgroup CPU quota. The webhook that answers residents shares the
//     process, and must always find a core's worth free however many photos
//     arrive. GOMAXPROCS does not come into it: it bounds Go's threads, not
//     what this package takes of them.

// DefaultPhotoMemory is Config.PhotoMemory's default: room for a few 12 MP
// photos decoded the standard way at once, or dozens on the fast JPEG path,
// and a small part of a typical 1-2 GB instance.
const DefaultPhotoMemory = 256 << 20

// budget is a weighted semaphore of bytes, first come first served (a large
// photo is not starved by a stream of small ones).
type budget struct {
	mu      sync.Mutex
	size    int64
	used    int64
	peak    int64     // the most ever reserved at once
	waiters list.List // of *budgetWaiter
}

type budgetWaiter struct {
	n     int64
	ready chan struct{}
}

func newBudget(size int64) *budget { return &budget{size: size} }

// acquire reserves n bytes (n <= size), waiting until they are free or ctx
// ends.
func (b *budget) acquire(ctx context.Context, n int64) error {
	b.mu.Lock()
	if b.waiters.Len() == 0 && b.size-b.used >= n {
		b.take(n)
		b.mu.Unlock()
		return nil
	}
	w := &budgetWaiter{n: n, ready: make(chan struct{})}
	el := b.waiters.PushBack(w)
	b.mu.Unlock()
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		b.mu.Lock()
		select {
		case <-w.ready:
			// Granted as ctx ended: hand it back.
			b.used -= n
		default:
			b.waiters.Remove(el)
		}
		b.grant() // the waiters behind may fit now
		b.mu.Unlock()
		return ctx.Err()
	}
}

// release gives back n bytes acquired before.
func (b *budget) release(n int64) {
	b.mu.Lock()
	b.used -= n
	b.grant()
	b.mu.Unlock()
}

func (b *budget) take(n int64) {
	b.used += n
	b.peak = max(b.peak, b.used)
}

// grant wakes the waiters at the front whose reservations now fit.
func (b *budget) grant() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() {
		w := e.Value.(*budgetWaiter)
		if b.size-b.used < w.n {
			return
		}
		b.take(w.n)
		b.waiters.Remove(e)
		close(w.ready)
	}
}

// peakUse is the most ever reserved at once.
func (b *budget) peakUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.peak
}

// defaultPhotoCPU is Config.PhotoCPU's default: one fewer than the CPUs this
// process may run on (runtime.NumCPU counts its affinity mask), fewer still
// under a cgroup CPU quota, and at least one.
func defaultPhotoCPU() int {
	cpus := float64(runtime.NumCPU())
	if q, ok := cgroupCPUQuota("/sys/fs/cgroup/cpu.max"); ok && q < cpus {
		cpus = q
	}
	// Rounded down: a quota of 2.5 CPUs leaves 1.5 with one photo, and only
	// half a CPU with two.
	return max(1, int(cpus-1))
}

// cgroupCPUQuota reads a cgroup v2 cpu.max ("150000 100000" is 1.5 CPUs,
// "max 100000" no quota).
func cgroupCPUQuota(path string) (float64, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 || f[0] == "max" {
		return 0, false
	}
	quota, err1 := strconv.ParseFloat(f[0], 64)
	period, err2 := strconv.ParseFloat(f[1], 64)
	if err1 != nil || err2 != nil || quota <= 0 || period <= 0 {
		return 0, false
	}
	return quota / period, true
}

// photoLimits are what a worker's photos share: the memory budget and the
// CPU slots, with the thumbnail size and pixel limit.
type photoLimits struct {
	thumbMax   int
	pixelLimit int
	mem        *budget
	cpu        chan struct{}
	// running counts photos being processed; busiest is its high-water
	// mark, for tests.
	running, busiest atomic.Int32
}

func newPhotoLimits(thumbMax, pixelLimit, cpus int, memory int64) *photoLimits {
	return &photoLimits{thumbMax: thumbMax, pixelLimit: pixelLimit, mem: newBudget(memory), cpu: make(chan struct{}, cpus)}
}

// busy counts a photo starting (+1) or done (-1) processing.
func (l *photoLimits) busy(d int32) {
	n := l.running.Add(d)
	for b := l.busiest.Load(); n > b && !l.busiest.CompareAndSwap(b, n); b = l.busiest.Load() {
	}
}

// A photoJob is a photo whose header has been read: what processing it will
// cost, and the processing.
type photoJob struct {
	w, h int
	what string // "JPEG", "16-bit PNG", ... for the refusal reason
	cost int64  // bytes to reserve
	run  func() (*photo, error)
}

// Memory costs, in bytes. Each is an upper bound on what the step allocates
// (TestCostCoversAllocations holds them to it), so reservations add up to
// at least what is live.
const (
	costFixed = 256 << 10 // decoder state, encoder buffers, the JPEG walk
	// thumbnail of tw x th: resampled planes, temporaries, the encoded JPEG,
	// oriented copies.
	costPerThumbPixel = 24
)

func thumbCost(tw, th int) int64 { return int64(tw*th)*costPerThumbPixel + costFixed }

// reducedCost is the fast JPEG path's planes.
func reducedCost(fr *frame, n int) int64 {
	var c int64
	if fr.nComp == 1 {
		return int64((fr.width+7)/8*n) * int64((fr.height+7)/8*n)
	}
	for i := range fr.nComp {
		c += int64(fr.mxx*int(fr.comp[i].h)*n) * int64(fr.myy*int(fr.comp[i].v)*n)
	}
	return c
}

// stdJPEGCost is what image/jpeg takes for a full decode, as its reader
// allocates: a plane per component over whole MCUs, 64 int32 coefficients
// per block for a progressive file, a CMYK or RGB image for those; and the
// RGBA copy the thumbnail makes of an image without YCbCr or grey planes.
func stdJPEGCost(f *jpegFile, fr *frame) int64 {
	px := int64(fr.width) * int64(fr.height)
	var samples, blocks int64
	for i := range fr.nComp {
		c := fr.comp[i]
		bw, bh := int64(fr.mxx*int(c.h)), int64(fr.myy*int(c.v))
		if fr.nComp == 1 {
			bw, bh = int64((fr.width+7)/8), int64((fr.height+7)/8)
		}
		samples += bw * bh * 64
		blocks += bw * bh
	}
	cost := samples
	if fr.progressive {
		cost += blocks * 64 * 4
	}
	if fr.nComp == 4 || (fr.nComp == 3 && f.isRGB(fr)) {
		cost += 2 * 4 * px // the converted image, and the thumbnail's RGBA copy of it
	}
	return cost
}

// reencodeCost is what decoding and encoding again takes (the path for PNG,
// GIF and WebP), from what it was measured to allocate on noise, which
// compresses worst: about 22 bytes a pixel for an 8-bit PNG and 48 for a
// 16-bit one, plus a megabyte or so of zlib state. Per pixel: six times the
// decoded image's bytes (the image, and the encoded output, as large as the
// raw samples for noise, allocated twice over as its buffer doubles), the
// thumbnail's RGBA copy (4) and box-filtered copy (1), an interlaced PNG's
// passes (twice the image), and a flattened RGBA copy for formats stored
// as JPEG (4).
func reencodeCost(w, h int, bpp int, interlaced, flatten bool) int64 {
	per := 6*int64(bpp) + 4 + 1
	if interlaced {
		per += 2 * int64(bpp)
	}
	if flatten {
		per += 4
	}
	return int64(w)*int64(h)*per + costReencodeFixed
}

// costReencodeFixed is the zlib and encoder state of the re-encoding path.
const costReencodeFixed = 2 << 20

// refusal explains a photo too big for the whole budget.
func (j *photoJob) refusal(budget int64) error {
	return reject("image is %dx%d pixels (%s) and needs %s of memory to process, more than the %s allowed for photos",
		j.w, j.h, j.what, mib(j.cost), mib(budget))
}

func mib(n int64) string {
	if n >= 10<<20 {
		return fmt.Sprintf("%d MiB", (n+(1<<20)-1)>>20)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// baseProcs is GOMAXPROCS as the process started (the CPUs it may use).
var baseProcs = runtime.GOMAXPROCS(0)

// ReserveProcs raises GOMAXPROCS by the photo slots, once per process
// whatever the number of workers. A photo decodes on a thread the kernel
// schedules last (runLowPriority) and holds a Go P while it does, even
// while the kernel runs other threads instead; without the extra Ps the
// webhook would be left one P short for as long as a photo is in flight.
// An operator's explicit GOMAXPROCS is left alone.
func ReserveProcs(slots int) {
	if os.Getenv("GOMAXPROCS") != "" || slots <= 0 {
		return
	}
	if want := baseProcs + slots; runtime.GOMAXPROCS(0) < want {
		runtime.GOMAXPROCS(want)
	}
}

// PhotoSlots is how many photos the worker decodes at once (Config.PhotoCPU).
func (w *Worker) PhotoSlots() int { return w.cfg.PhotoCPU }
