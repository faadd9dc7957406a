package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lianxin/lianxin/bot/wxsim"
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
	env := map[string]string{"LIANXIN_CONFIG": dir, "LIANXIN_DB": filepath.Join(dir, "lianxin.db")}
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
	code, out, _ = cli("import")
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

func TestDeputyInviteAndBinding(t *testing.T) {
	ts := startService(t, testConfig(t))
	out := runCLI(t, ts, "deputy", "invite", "d-st-02")
	code := strings.TrimSpace(strings.SplitN(out, "\n", 2)[0])
	if len(code) != 6 || !strings.Contains(out, "绑定 "+code) {
		t.Fatalf("invite output: %q", out)
	}
	c := ts.client(wxsim.Safe)
	const deputy = "oBindDeputy0000000000001"
	// Guessing is limited: after five wrong codes even the right one is refused for a while.
	for i := 0; i < 5; i++ {
		mustContain(t, say(t, c, deputy, "绑定 00000"+string(rune('0'+i))), "不对或已过期")
	}
	mustContain(t, say(t, c, deputy, "绑定 "+code), "错误次数太多")

	other := "oBindOther00000000000001"
	mustContain(t, say(t, c, other, "绑定 "+code), "绑定成功", "郑示范")
	mustContain(t, say(t, c, other, "绑定 "+code), "不对或已过期") // one-time
	var list []struct {
		ID    string `json:"id"`
		Bound bool   `json:"bound"`
	}
	json.Unmarshal([]byte(runCLI(t, ts, "deputy", "list", "--json")), &list)
	for _, d := range list {
		if d.Bound != (d.ID == "d-st-02") {
			t.Errorf("deputy %s bound=%v", d.ID, d.Bound)
		}
	}
	var errOut strings.Builder
	if code := run(context.Background(), []string{"deputy", "invite", "d-nobody"}, ts.env(), nil, &strings.Builder{}, &errOut); code != 1 || !strings.Contains(errOut.String(), "no active deputy") {
		t.Errorf("invite for an unknown deputy: %d %q", code, errOut.String())
	}
}

// TestReturnedCaseGoesToAnotherDeputy: 退回 re-routes to a colleague, never
// back to whoever returned it; when nobody is left it goes to the staff.
func TestReturnedCaseGoesToAnotherDeputy(t *testing.T) {
	ts := startService(t, testConfig(t))
	c := ts.client(wxsim.Safe)
	number := reportCase(t, ts, "oReturnResident000000001")
	deputies := map[string]string{}
	for _, id := range []string{"d-st-01", "d-st-02", "d-st-03", "d-st-04", "d-pt-01", "d-pt-02", "d-pt-03", "d-pt-04", "d-pt-05", "d-pt-06", "d-pt-07"} {
		openid := "oReturn_" + id
		bindDeputy(t, ts, c, openid, id)
		deputies[id] = openid
	}
	seen := map[string]bool{}
	for i := 0; i < 20; i++ {
		got, err := ts.db.Case(context.Background(), number)
		if err != nil {
			t.Fatal(err)
		}
		if got.AssigneeID == "" {
			if !got.NeedsStaff {
				t.Error("a case nobody can take must be flagged for staff")
			}
			break
		}
		if seen[got.AssigneeID] {
			t.Fatalf("returned to %s, who had already returned it", got.AssigneeID)
		}
		seen[got.AssigneeID] = true
		reply := say(t, c, deputies[got.AssigneeID], "退回 "+number+" 不是我联系的片区")
		mustContain(t, reply, "已退回")
	}
	if len(seen) < 2 {
		t.Errorf("only %d deputies saw the case", len(seen))
	}
}
