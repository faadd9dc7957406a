package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/registertest"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/store"
)

// registerEnv is a database holding the October register, and the
// environment of a CLI run against it.
func registerEnv(t *testing.T) (map[string]*lianxin.Case, func(string) string) {
	t.Helper()
	path := testenv.DBPath(t)
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := registertest.October(context.Background(), db)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"LIANXIN_DB": path, "LIANXIN_CONFIG": t.TempDir(), "USER": "clerk"}
	return cases, func(k string) string { return env[k] }
}

func runIn(t *testing.T, getenv func(string) string, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut strings.Builder
	code := run(context.Background(), args, getenv, strings.NewReader(""), &out, &errOut)
	return out.String(), errOut.String(), code
}

func TestRegisterCommands(t *testing.T) {
	cases, getenv := registerEnv(t)
	dir := t.TempDir()
	mustRun := func(args ...string) string {
		t.Helper()
		out, errOut, code := runIn(t, getenv, args...)
		if code != 0 {
			t.Fatalf("lianxin %s: exit %d: %s", strings.Join(args, " "), code, errOut)
		}
		return out
	}
	// The register of 平潭街 (with its points) for October: B, C, E.
	xlsx := filepath.Join(dir, "register.xlsx")
	if out := mustRun("cases", "export", "--format", "xlsx", "--month", "2026-10", "--station", "pingtanjie", "-o", xlsx); !strings.Contains(out, "3 cases written") {
		t.Errorf("export said %q", out)
	}
	x, err := excelize.OpenFile(xlsx)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := x.GetRows("登记簿")
	x.Close()
	if len(rows) != 4 || rows[1][0] != cases["B"].Number || rows[1][5] != lianxin.MaskPhone(cases["B"].Phone) {
		t.Errorf("sheet rows = %q", rows)
	}
	// To standard output, for a pipe: the CSV and nothing else.
	if out := mustRun("cases", "export", "--format", "csv", "--month", "2026-10", "-o", "-"); !strings.HasPrefix(out, "\uFEFF编号,") ||
		strings.Contains(out, "cases written") || strings.Count(out, "\r\n") != 8 {
		t.Errorf("export to stdout:\n%s", out)
	}
	// The cases a figure counts: October's overdue.
	csvPath := filepath.Join(dir, "overdue.csv")
	if out := mustRun("cases", "export", "--month", "2026-10", "--measure", "overdue", "-o", csvPath); !strings.Contains(out, "4 cases written") {
		t.Errorf("overdue export said %q", out)
	}
	// Bad filters are refused with the valid values.
	if _, errOut, code := runIn(t, getenv, "cases", "export", "--station", "nowhere", "-o", csvPath); code == 0 || !strings.Contains(errOut, "pingtanjie") {
		t.Errorf("unknown station: exit %d, %q", code, errOut)
	}
	if _, errOut, code := runIn(t, getenv, "cases", "export", "--measure", "happy", "-o", csvPath); code == 0 || !strings.Contains(errOut, "resolved_on_time") {
		t.Errorf("unknown measure: exit %d, %q", code, errOut)
	}
	// The numbers, as JSON, each figure with its filter.
	var s struct {
		Total struct {
			Figures map[string]struct {
				Value  int
				Filter lianxin.CaseFilter
			} `json:"figures"`
		} `json:"total"`
	}
	if err := json.Unmarshal([]byte(mustRun("stats", "--month", "2026-10", "--json")), &s); err != nil {
		t.Fatal(err)
	}
	if got := s.Total.Figures["handled"]; got.Value != 8 || got.Filter.Measure != lianxin.MeasureHandled || got.Filter.From.IsZero() {
		t.Errorf("stats --json handled = %+v", got)
	}
	if out := mustRun("stats", "--month", "2026-10"); !strings.Contains(out, "响应率 response") || !strings.Contains(out, "50.0%") {
		t.Errorf("stats:\n%s", out)
	}
	// A typical case, then the monthly report that shows it.
	mustRun("cases", "typical", cases["C"].Number, "--note", "跟踪督办直至群众满意。")
	report := filepath.Join(dir, "october.html")
	if out := mustRun("report", "monthly", "--month", "2026-10", "--station", "pingtanjie", "-o", report); !strings.Contains(out, "as first generated") {
		t.Errorf("report said %q", out)
	}
	page, _ := os.ReadFile(report)
	if !strings.Contains(string(page), "本月共受理群众反映4件") || !strings.Contains(string(page), "跟踪督办直至群众满意。") {
		t.Errorf("the monthly report lacks its figures or its typical case")
	}
	// The deputy's record as a sheet.
	sheet := filepath.Join(dir, "record.xlsx")
	if out := mustRun("deputy", "record", "d-st-02", "--year", "2026", "--format", "xlsx", "-o", sheet); !strings.Contains(out, "3 cases taken, 3 resolved") {
		t.Errorf("record said %q", out)
	}
	// A resident asks to be forgotten.
	mustRun("cases", "erase", cases["B"].Number, "--reason", "本人来电要求")
	mustRun("cases", "export", "--month", "2026-10", "--station", "shuitan", "--unmasked", "-o", csvPath)
	got, _ := os.ReadFile(csvPath)
	if strings.Contains(string(got), cases["B"].Phone) || !strings.Contains(string(got), "已删除") {
		t.Errorf("erased phone exported:\n%s", got)
	}
	db, err := store.Open(context.Background(), getenv("LIANXIN_DB"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log, _ := db.AuditLog(context.Background(), lianxin.AuditFilter{Limit: 500})
	var actions []string
	for _, e := range log {
		if e.Actor != "cli:clerk" {
			t.Errorf("audit actor %q", e.Actor)
		}
		actions = append(actions, e.Action)
	}
	if strings.Join(actions, " ") != "export_unmasked erase typical" { // newest first
		t.Errorf("audit log = %v", actions)
	}
}
