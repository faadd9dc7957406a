//go:build unix

package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockFile takes an advisory lock (flock) on the database file itself:
// shared by every process that serves from it, exclusive for one that must
// have it to itself (sim -fakewx). flock locks are independent of the POSIX
// locks SQLite takes, but closing any descriptor of the file drops the
// process's POSIX locks, so the returned file is closed only after SQLite
// has closed the database (DB.Close).
func lockFile(path string, exclusive bool) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	if err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			if exclusive {
				return nil, fmt.Errorf("%s is in use by another process (a running serve?): use another file", path)
			}
			return nil, fmt.Errorf("%s is in use by a process that must have it to itself (lianxin-dev sim -fakewx?)", path)
		}
		return nil, err
	}
	return f, nil
}
