package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lianxin/lianxin/configs"
)

// TestImportIsIdempotentAndReportsChanges edits the directory as station
// staff would and imports it.
func TestImportIsIdempotentAndReportsChanges(t *testing.T) {
	dir := t.TempDir()
	original, err := configs.ReadData("", "directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, "directory.yaml"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(string(original))
	env := map[string]string{"LIANXIN_CONFIG": dir, "LIANXIN_DB": filepath.Join(dir, "lianxin.DB")}
	cli := func(args ...string) (int, string, string) {
		var out, errOut strings.Builder
		code := run(context.Background(), args, func(k string) string { return env[k] }, nil, &out, &errOut)
		return code, out.String(), errOut.String()
	}
	if code, out, errOut := cli("import"); code != 0 || !strings.Contains(out, "added") {
		t.Fatalf("first import: %d %s %s", code, out, errOut)
	}
	if code, out, _ := cli("import"); code != 0 || !strings.Contains(out, "unchanged") {
		t.Errorf("second import of the same files should change nothing: %s", out)
	}

	// A deputy renamed, one removed, a new one added.
	var lines []string
	for _, l := range strings.Split(strings.Replace(string(original), "name: 钱样例", "name: 钱新名", 1), "\n") {
		switch {
		case strings.Contains(l, "id: d-pt-07,"):
			lines = append(lines, "  - {id: d-pt-08, name: 冯新增, level: 区级, station: pingtanjie, specialties: [roads]}")
		default:
			lines = append(lines, l)
		}
	}
	edited := strings.Join(lines, "\n")
	write(edited)
	code, out, errOut := cli("import", "--dry-run")
	if code != 0 || !strings.Contains(out, "would change") {
		t.Fatalf("dry run: %d %s %s", code, out, errOut)
	}
	code, out, errOut = cli("import")
	if code != 0 {
		t.Fatalf("import: exit %d %s", code, errOut)
	}
	for _, want := range []string{"changed  deputy     d-st-04 (钱新名): [name]", "removed  deputy     d-pt-07", "added    deputy     d-pt-08"} {
		if !strings.Contains(out, want) {
			t.Errorf("import report lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = cli("deputy", "list", "--json")
	var deputies []struct {
		ID     string `json:"id"`
		Name   string `json:"name"`
		Active bool   `json:"active"`
	}
	if err := json.Unmarshal([]byte(out), &deputies); err != nil || code != 0 {
		t.Fatalf("deputy list --json: %v\n%s", err, out)
	}
	states := map[string]bool{}
	for _, d := range deputies {
		states[d.ID] = d.Active
	}
	if states["d-pt-07"] || !states["d-pt-08"] || !states["d-st-04"] {
		t.Errorf("after import: %v", states)
	}

	// Invalid data is refused with the line at fault, and nothing changes.
	bad := strings.Replace(edited, "level: 区级", "level: 省级", 1)
	write(bad)
	line := strings.Count(bad[:strings.Index(bad, "level: 省级")], "\n") + 1
	code, _, errOut = cli("import")
	if code != 1 || !strings.Contains(errOut, fmt.Sprintf("line %d", line)) {
		t.Errorf("invalid directory: exit %d, want the error to name line %d:\n%s", code, line, errOut)
	}
}
