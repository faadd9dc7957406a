//go:build !race

package photos

const raceEnabled = false
