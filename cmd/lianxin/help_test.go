package main

import (
	"context"
	"io"
	"regexp"
	"strings"
	"testing"
)

// An operator reading `lianxin help` at night takes the word after a flag
// for what to type there: it must be a placeholder (FILE, ID, YYYY-MM), not
// Go's type name «string» or words lifted from the description.
func TestHelpShowsAPlaceholderForEveryFlagValue(t *testing.T) {
	var stdout strings.Builder
	if code := run(context.Background(), []string{"help"}, func(string) string { return "" }, nil, &stdout, io.Discard); code != 0 {
		t.Fatalf("help exit %d", code)
	}
	flagLine := regexp.MustCompile(`^\s+--([a-z0-9-]+) (\S+)\s`)
	placeholder := regexp.MustCompile(`^[A-Z][A-Z0-9_:@/|.-]*$`)
	for _, line := range strings.Split(stdout.String(), "\n") {
		m := flagLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if !placeholder.MatchString(m[2]) {
			t.Errorf("--%s shows %q where the value goes: %s", m[1], m[2], strings.TrimSpace(line))
		}
	}
}
