//go:build race

package media

// raceEnabled: the race detector changes what allocates (sync.Pool drops
// what it holds at random) and slows decoding tenfold; tests that measure
// allocations skip, and tests that loop over many inputs take fewer.
const raceEnabled = true
