package main

import (
	"context"
	"io"
	"os"
	"path/filepath"
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

// An operator who runs a command from the wrong directory, or with a typo
// in LIANXIN_DB, must not be told «no cases» or «nothing in the outbox»
// from an empty register made on the spot: the command names the file it
// did not find, and leaves nothing behind.
func TestOperatorCommandsRefuseAMissingRegister(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "typo", "lianxin.db")
	env := func(k string) string {
		switch k {
		case "LIANXIN_DB":
			return missing
		case "LIANXIN_CONFIG":
			return filepath.Join(dir, "configs")
		}
		return ""
	}
	for _, args := range [][]string{{"cases", "list"}, {"outbox", "--dead"}, {"stats"}, {"deputy", "list"}, {"user", "list"}, {"grid", "list"}} {
		var stdout, stderr strings.Builder
		code := run(context.Background(), args, env, strings.NewReader(""), &stdout, &stderr)
		if code == 0 || !strings.Contains(stderr.String(), missing) || !strings.Contains(stderr.String(), "LIANXIN_DB") {
			t.Errorf("lianxin %s on a missing register: exit %d, stdout %q, stderr %q", strings.Join(args, " "), code, stdout.String(), stderr.String())
		}
	}
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Errorf("the commands made %s: %v", filepath.Dir(missing), err)
	}
}

// A refusal reads as a sentence, not as the layers it came through
// («store: CreateInvite(d-none): lianxin: not_found: …»).
func TestRefusalsReadPlainly(t *testing.T) {
	ts := startService(t, testConfig(t))
	for _, args := range [][]string{{"deputy", "invite", "d-none"}, {"deputy", "record", "d-none"}} {
		var stderr strings.Builder
		code := run(context.Background(), args, ts.Env(), strings.NewReader(""), io.Discard, &stderr)
		if code != 1 || !strings.Contains(stderr.String(), `"d-none"`) || strings.Contains(stderr.String(), "not_found") || strings.Contains(stderr.String(), "store:") {
			t.Errorf("lianxin %s: exit %d, %q", strings.Join(args, " "), code, stderr.String())
		}
	}
}

// `cases export` without -o asks for the file, not for a format.
func TestExportWithoutAFileAsksForIt(t *testing.T) {
	var stderr strings.Builder
	code := run(context.Background(), []string{"cases", "export", "--month", "2026-10"}, func(string) string { return "" }, nil, io.Discard, &stderr)
	if first, _, _ := strings.Cut(stderr.String(), "\n"); code == 0 || !strings.Contains(first, "-o FILE is required") {
		t.Errorf("exit %d, %q", code, first)
	}
}
