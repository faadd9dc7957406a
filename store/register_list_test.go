package store_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/registertest"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/store"
)

// The console's list and export (CaseList, RegisterList: a scope and a
// CaseQuery) select exactly the cases a figure's filter does (RegisterRows:
// a CaseFilter), for every measure, scope and breakdown, on both engines:
// a figure's link and the register sheet show the counted cases.
func TestConsoleListAgreesWithTheFigures(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		db, err := store.Open(ctx, dsn())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		cases, err := registertest.October(ctx, db)
		if err != nil {
			t.Fatal(err)
		}
		now := registertest.At(11, 5, 12, 0)
		db.Now = func() time.Time { return now }
		dir, _, err := registertest.Data()
		if err != nil {
			t.Fatal(err)
		}
		from, to, _ := lianxin.MonthRange("2026-10", registertest.CST)
		scopes := map[string]lianxin.Scope{"admin": {All: true}, "clerk": dir.ScopeOf(lianxin.User{Role: lianxin.RoleStaff, StationID: "pingtanjie"}),
			"deputy": {DeputyID: "d-st-02"}}
		parts := []struct {
			name string
			q    func(*lianxin.CaseQuery)
			f    func(*lianxin.CaseFilter)
		}{
			{"all", func(*lianxin.CaseQuery) {}, func(*lianxin.CaseFilter) {}},
			{"saiyu", func(q *lianxin.CaseQuery) { q.Units = dir.Units("saiyu") }, func(f *lianxin.CaseFilter) { f.Units = dir.Units("saiyu") }},
			{"district", func(q *lianxin.CaseQuery) { q.Units = []string{""} }, func(f *lianxin.CaseFilter) { f.Units = []string{""} }},
			{"nobody's", func(q *lianxin.CaseQuery) { q.Deputy = lianxin.NoDeputy }, func(f *lianxin.CaseFilter) { f.Deputy = lianxin.NoDeputy }},
			{"d-sy-02's", func(q *lianxin.CaseQuery) { q.Deputy = "d-sy-02" }, func(f *lianxin.CaseFilter) { f.Deputy = "d-sy-02" }},
			{"wechat", func(q *lianxin.CaseQuery) { q.Source = lianxin.SourceWeChat }, func(f *lianxin.CaseFilter) { f.Source = "微信" }},
			{"visits", func(q *lianxin.CaseQuery) { q.Source = lianxin.SourceVisit }, func(f *lianxin.CaseFilter) { f.Source = "来访" }},
		}
		nonEmpty := 0
		for who, scope := range scopes {
			for _, part := range parts {
				for _, m := range append([]lianxin.Measure{""}, lianxin.Measures...) {
					q := lianxin.CaseQuery{Measure: m, From: from, To: to, Now: now, PerPage: 200, Sort: lianxin.SortOldest}
					part.q(&q)
					f := lianxin.CaseFilter{Measure: m, From: from, To: to, Scope: &scope}
					part.f(&f)
					var want []string
					if err := db.RegisterRows(ctx, f, func(r *lianxin.RegisterRow) error {
						want = append(want, r.Number)
						return nil
					}); err != nil {
						t.Fatal(err)
					}
					page, err := db.CaseList(ctx, scope, q)
					if err != nil {
						t.Fatal(err)
					}
					var listed, exported []string
					for _, c := range page.Cases {
						listed = append(listed, c.Number)
					}
					if err := db.RegisterList(ctx, scope, q, func(r *lianxin.RegisterRow) error {
						exported = append(exported, r.Number)
						return nil
					}); err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(listed, want) || page.Total != len(want) || !slices.Equal(exported, want) {
						t.Errorf("%s %s %q: figure's cases %v, list %v (total %d), export %v", who, part.name, m, want, listed, page.Total, exported)
					}
					if len(want) > 0 {
						nonEmpty++
					}
				}
			}
		}
		// An anonymous resident is not found by their phone by a deputy.
		c := cases["C"]
		for scope, want := range map[*lianxin.Scope]int{{DeputyID: "d-dyf-02"}: 0, {All: true}: 1} {
			page, err := db.CaseList(ctx, *scope, lianxin.CaseQuery{Search: c.Phone[len(c.Phone)-4:], Now: now})
			if err != nil || page.Total != want {
				t.Errorf("%+v searching anonymous C's phone: %d found, want %d (%v)", *scope, page.Total, want, err)
			}
		}
		if nonEmpty < 40 {
			t.Errorf("only %d non-empty comparisons", nonEmpty)
		}
	})
}
