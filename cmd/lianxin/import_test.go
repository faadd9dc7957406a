package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
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

// TestLeavingDeputiesTakeNothingWithThem: deputies removed from the
// directory while they still have open cases. import --dry-run warns and
// says where each case would go, changing nothing; import moves each as
// routing would (a case nobody can take goes to its staff queue), with a
// timeline entry, the new deputy and the resident told.
func TestLeavingDeputiesTakeNothingWithThem(t *testing.T) {
	cfg := testConfig(t)
	cfg.ConfigDir = t.TempDir()
	original, err := configs.ReadData("", "directory.yaml")
	if err != nil {
		t.Fatal(err)
	}
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(cfg.ConfigDir, "directory.yaml"), []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(string(original))
	ts := startService(t, cfg)
	ctx := context.Background()
	c := ts.Client(wxsim.Safe)

	// 郑示范 (水滩) has a heating case; 贵石沟's head 秦样例 has one 尤示范 returned.
	heating := ts.ReportCase(t, "oLeaverResident000000001")
	const resident2 = "oLeaverResident000000002"
	send(t, c, wxsim.Location(resident2, 37.8730, 113.5760, "贵石沟小区"))
	for _, step := range []string{"2", "暖气一直不热，屋里才十四五度", "跳过", "13812345678"} {
		say(t, c, resident2, step)
	}
	returned := regexp.MustCompile(`KQ\d{8}-\d{4}`).FindString(say(t, c, resident2, "确认"))
	code, _, err := ts.DB.CreateInvite(ctx, "d-gsg-02", time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	say(t, c, "oLeaverDeputyGsg02000001", "绑定 "+code)
	mustContain(t, say(t, c, "oLeaverDeputyGsg02000001", "退回 "+lianxin.ShortNumber(returned)+" 不归我管"), "秦样例")

	// Both leave; 尤示范 becomes 贵石沟's head.
	var lines []string
	for _, l := range strings.Split(strings.Replace(string(original), "deputies: [d-st-02, d-st-03]", "deputies: [d-st-03]", 1), "\n") {
		switch {
		case strings.Contains(l, "id: d-st-02,"), strings.Contains(l, "id: d-gsg-01,"):
		case strings.Contains(l, "id: d-gsg-02,"):
			lines = append(lines, strings.Replace(l, "}", ", head: true}", 1))
		default:
			lines = append(lines, l)
		}
	}
	write(strings.Join(lines, "\n"))
	owner := func(number string) (string, bool) {
		got, err := ts.DB.Case(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		return got.AssigneeID, got.NeedsStaff
	}

	out := runCLI(t, ts, "import", "--dry-run")
	for _, want := range []string{"d-st-02 (郑示范)", "d-gsg-01 (秦样例)", "open case", heating, returned, "would go", "staff queue"} {
		if !strings.Contains(out, want) {
			t.Errorf("import --dry-run does not say %q:\n%s", want, out)
		}
	}
	if a, _ := owner(heating); a != "d-st-02" {
		t.Fatalf("the dry run moved %s to %q", heating, a)
	}

	out = runCLI(t, ts, "import")
	for _, want := range []string{"d-st-02 (郑示范)", heating, returned, "staff queue"} {
		if !strings.Contains(out, want) {
			t.Errorf("import does not say %q:\n%s", want, out)
		}
	}
	to, staffed := owner(heating)
	if (to != "d-st-03" && to != "d-st-04") || staffed {
		t.Errorf("%s went to %q (staff %v), want another deputy of 水滩", heating, to, staffed)
	}
	got, _ := ts.DB.Case(ctx, heating)
	if last := lastStaffEvent(got); last.Type != lianxin.EventAssigned || !strings.Contains(last.Text, "郑示范") {
		t.Errorf("%s's timeline ends with %+v, want the reassignment naming who left", heating, last)
	}
	if n := noticesTo(t, ts, "deputy:"+to); countContaining(n, heating) != 1 {
		t.Errorf("the new deputy was told: %q", n)
	}
	if n := noticesTo(t, ts, "oLeaverResident000000001"); countContaining(n, heating) != 1 {
		t.Errorf("the resident was told: %q", n)
	}
	if to, staffed := owner(returned); to != "" || !staffed {
		t.Errorf("%s (returned by 尤示范, its head gone) went to %q (staff %v), want the staff queue", returned, to, staffed)
	}
	if out := runCLI(t, ts, "import"); strings.Contains(out, "warning") {
		t.Errorf("a second import still warns:\n%s", out)
	}
}

func countContaining(texts []string, frag string) int {
	n := 0
	for _, s := range texts {
		if strings.Contains(s, frag) {
			n++
		}
	}
	return n
}
