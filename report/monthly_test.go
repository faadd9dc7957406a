package report_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/registertest"
	"github.com/lianxin/lianxin/report"
)

func TestMonthlyReportOfAStation(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	c := f.cases["C"]
	if _, err := f.db.SetTypical(ctx, c.Number, true, "群众不满意后重新办理直至满意。", lianxin.AuditEntry{Actor: "cli:clerk"}); err != nil {
		t.Fatal(err)
	}
	m, err := f.rep.Monthly(ctx, "2026-10", "pingtanjie", false, "cli:clerk")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Frozen {
		t.Error("October is over: its figures should be kept as first generated")
	}
	var buf bytes.Buffer
	if err := f.rep.WriteMonthlyHTML(&buf, m); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	// 平潭街 with its points in October: A (carried over), B, C (重办), E.
	for _, want := range []string{
		"平潭街街道人大代表联络站", "2026年10月群众反映办理情况报告",
		"本月共受理群众反映4件，其中新登记3件、上月结转1件、重办1件。已办结3件，办结率75.0%，按期办结率50.0%；尚在办理1件。本月有2件曾超过办理时限。",
		"响应率66.7%",                    // A late, B and C on time; E not yet due
		"水滩社区人大代表联络点", "东窑房社区人大代表联络点", // the station's units one by one
		"案例1：环境卫生（" + c.Number + "）", "群众不满意后重新办理直至满意。",
		"响应率</dt>", // the definitions
	} {
		if !strings.Contains(page, want) {
			t.Errorf("the report lacks %q", want)
		}
	}
	if n := strings.Count(page, "<svg"); n != 4 {
		t.Errorf("%d charts, want 4 (trend, categories, stations, map)", n)
	}
	// The overdue list says which deadline was missed, in which round.
	got := map[string]report.OverdueCase{}
	for _, o := range m.Overdue {
		got[o.Number] = o
	}
	if len(got) != 2 {
		t.Fatalf("overdue = %+v, want A and C", m.Overdue)
	}
	a, cc := got[f.cases["A"].Number], got[c.Number]
	if a.MissedStage != "accept" || !a.Due.Equal(registertest.At(10, 1, 0, 0)) || a.DaysOver != 1 {
		t.Errorf("A: %+v (taken 5 hours after registration, 1 hour late)", a)
	}
	if cc.MissedStage != "resolve" || !cc.Due.Equal(registertest.At(10, 13, 9, 0)) || cc.DaysOver != 7 ||
		len(cc.Departments) != 1 || cc.Departments[0] != "环境卫生服务中心" || cc.Progress == "" {
		t.Errorf("C: %+v (its first round resolved 7 days late, forwarded)", cc)
	}
}

// A finished month's report reads the same when generated again, whatever
// happened to its cases since: later steps, edits, erasure.
func TestMonthlyFiguresDoNotChangeWhenRegenerated(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	first, err := f.rep.Monthly(ctx, "2026-10", "", false, "cli:clerk")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.Marshal(first.Stats)
	// November and December go on: E and I are resolved, A is erased.
	f.now = registertest.At(12, 1, 9, 0)
	for _, step := range []struct {
		name   string
		at     time.Time
		status lianxin.Status
		typ    string
	}{{"E", registertest.At(11, 6, 9, 0), lianxin.StatusResolved, lianxin.EventResolved},
		{"I", registertest.At(11, 7, 9, 0), lianxin.StatusAccepted, lianxin.EventAccepted},
		{"I", registertest.At(11, 20, 9, 0), lianxin.StatusResolved, lianxin.EventResolved}} {
		at := step.at
		f.db.Now = func() time.Time { return at }
		if _, err := f.db.Transition(ctx, lianxin.Transition{CaseID: f.cases[step.name].ID, Status: step.status,
			Events: []lianxin.Event{{Type: step.typ, Actor: "staff"}}}); err != nil {
			t.Fatal(err)
		}
	}
	f.db.Now = func() time.Time { return f.now }
	if _, err := f.db.EraseContact(ctx, f.cases["A"].Number, lianxin.AuditEntry{Actor: "cli:clerk"}); err != nil {
		t.Fatal(err)
	}
	// Computed afresh, as things stood at the end of October: the same.
	again, err := f.rep.StatsFor(ctx, october(), 12)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range lianxin.Measures {
		if again.Total.N(m) != first.Stats.Total.N(m) {
			t.Errorf("October's %s was %d, computed again in December %d", m, first.Stats.Total.N(m), again.Total.N(m))
		}
	}
	// A case moved to another category and station afterwards (the
	// console can): the October report keeps its figures.
	raw, err := sql.Open("sqlite3", "file:"+f.db.Path()+"?_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE cases SET category = 'roads', station_id = 'qiaotou' WHERE id = ?`, f.cases["B"].ID); err != nil {
		t.Fatal(err)
	}
	second, err := f.rep.Monthly(ctx, "2026-10", "", false, "cli:clerk")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(second.Stats); !bytes.Equal(got, want) || !second.Frozen || !second.GeneratedAt.Equal(first.GeneratedAt) {
		t.Errorf("the October report changed when generated again:\nfirst  %s\nsecond %s", want, got)
	}
	var page1, page2 bytes.Buffer
	_ = f.rep.WriteMonthlyHTML(&page1, first)
	_ = f.rep.WriteMonthlyHTML(&page2, second)
	if page1.String() != page2.String() {
		t.Error("the October report's page changed when generated again")
	}
	// Recomputing is possible, on purpose, and audited.
	third, err := f.rep.Monthly(ctx, "2026-10", "", true, "cli:clerk")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := json.Marshal(third.Stats); bytes.Equal(got, want) {
		t.Error("--recompute kept the old figures")
	}
	log, _ := f.db.AuditLog(ctx, lianxin.AuditFilter{Limit: 500})
	if len(log) == 0 || log[0].Action != lianxin.AuditRecompute { // newest first
		t.Errorf("recomputation not audited: %+v", log)
	}
}

func TestDeputyRecord(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	rec, err := f.rep.Record(ctx, "d-dyf-02", 2026)
	if err != nil {
		t.Fatal(err)
	}
	// C: taken on time, forwarded to 环境卫生服务中心, resolved late, 不满意,
	// resolved again on time, 满意.
	if rec.Taken != 1 || rec.Forwarded != 1 || rec.Resolved != 1 || rec.OnTheSpot != 0 || rec.Rated != 1 ||
		rec.ResolvedRate.Num != 0 || rec.ResponseRate.Value != 1 || len(rec.ForwardedTo) != 1 || rec.ForwardedTo[0] != (report.Count{Label: "环境卫生服务中心", N: 1}) ||
		rec.Ratings[0] != (report.Count{Label: "满意", N: 1}) {
		t.Errorf("褚示范's record: %+v", rec)
	}
	// 东窑房 receives on the 15th, all its deputies: January to October by 5 November.
	if len(rec.ReceptionDays) != 10 {
		t.Errorf("reception days = %v", rec.ReceptionDays)
	}
	for _, d := range rec.ReceptionDays {
		if d.Day() != 15 {
			t.Errorf("reception day %v", d)
		}
	}
	rec, err = f.rep.Record(ctx, "d-st-02", 2026)
	if err != nil {
		t.Fatal(err)
	}
	// G, A, B: all answered or resolved without forwarding; A late.
	if rec.Taken != 3 || rec.OnTheSpot != 3 || rec.Answered != 1 || rec.Resolved != 3 || rec.ResolvedRate.Num != 2 ||
		rec.Ratings[0].N != 2 || rec.Ratings[1].N != 1 || rec.Opinions != 0 {
		t.Errorf("郑示范's record: %+v", rec)
	}
	var page bytes.Buffer
	if err := f.rep.WriteRecordHTML(&page, rec); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"郑示范代表2026年度履职档案", "共承办群众反映3件，其中当场解答并办结3件", f.cases["A"].Number} {
		if !strings.Contains(page.String(), want) {
			t.Errorf("the record lacks %q", want)
		}
	}
	var sheet bytes.Buffer
	if err := f.rep.WriteRecordXLSX(&sheet, rec); err != nil {
		t.Fatal(err)
	}
	x, err := excelize.OpenReader(&sheet)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	if v, _ := x.GetCellValue("履职档案", "B6"); v != "3" {
		t.Errorf("承办 in the sheet = %q", v)
	}
	rows, _ := x.GetRows("承办件")
	if len(rows) != 4 {
		t.Errorf("the sheet lists %d rows, want a header and 3 cases", len(rows))
	}
}
