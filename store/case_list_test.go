package store

import (
	"context"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

// TestCaseListScopeAndSearch: the console's list applies the user's scope
// in the query, and finds cases by words of the description (Chinese,
// without spaces), the short number and the phone's last four digits.
func TestCaseListScopeAndSearch(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		db := openTest(t, dsn())
		ctx := context.Background()
		num := lianxin.CaseNumbering{Prefix: "KQ", Location: time.UTC}
		file := func(station, desc, phone string) *lianxin.Case {
			c, _, err := db.CreateCase(ctx, num, lianxin.Report{OpenID: "o" + desc, Category: lianxin.Category{Key: "heating"},
				Description: desc, StationID: station, Phone: phone}, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		a := file("pingtanjie", "3号楼暖气一直不热，屋里才十四度", "13812345678")
		b := file("shuitan", "楼道灯坏了", "13900001111")
		c := file("saiyu", "暖气管道漏水", "")
		list := func(scope lianxin.Scope, search string) []string {
			t.Helper()
			p, err := db.CaseList(ctx, scope, lianxin.CaseQuery{Search: search, Now: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, r := range p.Cases {
				out = append(out, r.Number)
			}
			if p.Total != len(out) {
				t.Errorf("total %d for %d rows", p.Total, len(out))
			}
			return out
		}
		staff := lianxin.Scope{Units: []string{"pingtanjie", "shuitan"}}
		for _, tc := range []struct {
			scope  lianxin.Scope
			search string
			want   []string
		}{
			{lianxin.Scope{All: true}, "", []string{c.Number, b.Number, a.Number}},
			{staff, "", []string{b.Number, a.Number}},
			{lianxin.Scope{DeputyID: "nobody"}, "", nil},
			{lianxin.Scope{}, "", nil},
			{lianxin.Scope{All: true}, "暖气", []string{c.Number, a.Number}},
			{staff, "暖气", []string{a.Number}},
			{lianxin.Scope{All: true}, "暖气 不热", []string{a.Number}},
			{lianxin.Scope{All: true}, "一直不热", []string{a.Number}},
			{lianxin.Scope{All: true}, "不热一直", nil},
			{lianxin.Scope{All: true}, "灯", []string{b.Number}},
			{lianxin.Scope{All: true}, "３号楼", []string{a.Number}},
			{lianxin.Scope{All: true}, "5678", []string{a.Number}},
			{lianxin.Scope{All: true}, "2", []string{b.Number}},
			{lianxin.Scope{All: true}, b.Number, []string{b.Number}},
			{staff, c.Number, nil},
			{lianxin.Scope{All: true}, "%", nil},
		} {
			got := list(tc.scope, tc.search)
			if len(got) != len(tc.want) || (len(got) > 0 && got[0] != tc.want[0]) || (len(got) > 1 && got[len(got)-1] != tc.want[len(tc.want)-1]) {
				t.Errorf("scope %+v, search %q: %v, want %v", tc.scope, tc.search, got, tc.want)
			}
		}
		if _, err := db.CaseInScope(ctx, staff, c.Number); lianxin.ErrorCode(err) != lianxin.ENOTFOUND {
			t.Errorf("CaseInScope outside the scope: %v, want ENOTFOUND", err)
		}
		if got, err := db.CaseInScope(ctx, staff, a.Number); err != nil || got.Number != a.Number {
			t.Errorf("CaseInScope inside the scope: %v %v", got, err)
		}
	})
}
