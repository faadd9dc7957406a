//go:build !linux

package media

// runLowPriority runs fn at normal priority: per-thread niceness is a Linux
// feature (see lowprio_linux.go); elsewhere the CPU slots alone bound photo
// work.
func runLowPriority(fn func() (*photo, error)) (*photo, error) { return fn() }
