//go:build !unix

package store

import "os"

// lockFile does nothing where flock is missing: lianxin runs on Linux.
func lockFile(path string, exclusive bool) (*os.File, error) { return nil, nil }
