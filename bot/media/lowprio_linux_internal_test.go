package media

import (
	"runtime"
	"syscall"
	"testing"
)

// niceOf is a thread's niceness (the raw syscall answers 20 - nice).
func niceOf(t *testing.T, tid int) int {
	t.Helper()
	prio, err := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
	if err != nil {
		t.Fatal(err)
	}
	return 20 - prio
}

// TestPhotosDecodeAtTheLowestPriority: photo work runs on a thread the
// kernel schedules after everything else, so a burst of photos cannot take
// a core the webhook needs; the threads that answer residents keep their
// priority, and a decoder that panics costs only its photo.
func TestPhotosDecodeAtTheLowestPriority(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	before := niceOf(t, syscall.Gettid())

	var nice int
	if _, err := runLowPriority(func() (*photo, error) {
		nice = niceOf(t, syscall.Gettid())
		return nil, nil
	}); err != nil {
		t.Fatal(err)
	}
	if nice != photoNice {
		t.Errorf("photo work ran at nice %d, want %d", nice, photoNice)
	}
	if after := niceOf(t, syscall.Gettid()); after != before {
		t.Errorf("the caller's thread went from nice %d to %d", before, after)
	}

	l := newPhotoLimits(DefaultThumbSize, maxPixels, 1, DefaultPhotoMemory)
	if _, err := l.sanitize(t.Context(), noisePNG(t, 64, 48, false)); err != nil {
		t.Fatalf("a photo through the low-priority path: %v", err)
	}
}
