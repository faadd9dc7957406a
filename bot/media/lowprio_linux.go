package media

import (
	"runtime"
	"syscall"
)

// photoNice is the niceness of the threads that decode photos: the lowest
// priority, so the kernel gives them only the CPU time the webhook, Redis
// and SQLite leave idle. A burst of photos then waits in the durable queue
// instead of slowing residents' replies, and is processed as soon as the
// chat quietens.
const photoNice = 19

// runLowPriority runs fn on an OS thread of its own at photoNice and waits
// for it (fn must not panic: sanitize recovers). The thread is not handed back to Go's pool (the goroutine exits
// still locked to it, so the runtime ends the thread), so no other goroutine
// ever runs at that priority. Starting a thread costs tens of microseconds,
// nothing beside a photo's milliseconds.
//
// While fn runs its thread holds one of Go's Ps even when the kernel does
// not schedule it; the service raises GOMAXPROCS by the photo slots
// (ReserveProcs) so the webhook keeps a P for every CPU.
func runLowPriority(fn func() (*photo, error)) (*photo, error) {
	type result struct {
		p   *photo
		err error
	}
	done := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		// Deliberately no UnlockOSThread: see above.
		// setpriority on a thread id sets that thread's niceness alone
		// (Linux threads are scheduled one by one). If it fails (a
		// container forbidding it is unusual: raising niceness needs no
		// privilege) the photo still gets processed, at normal priority.
		tid := syscall.Gettid()
		before, _ := syscall.Getpriority(syscall.PRIO_PROCESS, tid)
		_ = syscall.Setpriority(syscall.PRIO_PROCESS, tid, photoNice)
		p, err := fn()
		// The process's main thread is never ended: Go parks it for good
		// instead, and ps and top would show the whole process as niced.
		// Give it back at its old priority when that is allowed (lowering
		// niceness needs CAP_SYS_NICE); otherwise it stays parked.
		if tid == syscall.Getpid() && syscall.Setpriority(syscall.PRIO_PROCESS, tid, 20-before) == nil {
			runtime.UnlockOSThread()
		}
		done <- result{p, err}
	}()
	r := <-done
	return r.p, r.err
}
