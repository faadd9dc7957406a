//go:build race

package photos

// raceEnabled: drawing a 12 MP photo takes a minute under the race
// detector, which has nothing to find in it.
const raceEnabled = true
