package store

import (
	"context"
	"slices"
	"testing"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

// The district office's settings are imported with the directory: added
// once, changed when they change, and nothing when they do not.
func TestDistrictIsImported(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		db := openTest(t, dsn())
		ctx := context.Background()
		dir := &lianxin.Directory{Stations: []lianxin.Station{{ID: "s1", Name: "一站", Kind: lianxin.StationKind}},
			District: lianxin.District{Name: "矿区人大常委会代表联络工作室", Staff: &lianxin.Staff{OpenIDs: []string{"oStaffDistrict000000000001"}}}}
		for i, want := range []string{"added", "", "changed"} {
			if i == 2 {
				dir.District.Hours = "工作日 8:30–17:30"
			}
			changes, err := db.ImportDirectory(ctx, dir, nil, false)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			for _, c := range changes {
				if c.Kind == "district" {
					got = c.Action
				}
			}
			if got != want {
				t.Errorf("import %d: district %q, want %q (%v)", i+1, got, want, changes)
			}
		}
		loaded, _, err := db.LoadDirectory(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if loaded.District.Hours != "工作日 8:30–17:30" || !slices.Equal(loaded.District.Staff.OpenIDs, dir.District.Staff.OpenIDs) {
			t.Errorf("loaded district %+v", loaded.District)
		}
	})
}

// The staff queue is the open cases flagged for staff, of the units asked
// for ("" the district's), oldest first.
func TestStaffQueue(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		db := openTest(t, dsn())
		ctx := context.Background()
		num := lianxin.CaseNumbering{Prefix: "KQ", Location: yangquan}
		queued := func(station, source string, needsStaff bool) string {
			r := report("oStaffQueueResident", source)
			r.StationID, r.NeedsStaff = station, needsStaff
			c, _, err := db.CreateCase(ctx, num, r, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			return c.Number
		}
		a := queued("shuitan", "a", true)
		queued("shuitan", "b", false) // a deputy has it
		c := queued("", "c", true)
		d := queued("saiyu", "d", true)
		closed := queued("shuitan", "e", true)
		cc, _ := db.Case(ctx, closed)
		if _, err := db.Transition(ctx, lianxin.Transition{CaseID: cc.ID, Status: lianxin.StatusResolved}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			units []string
			want  []string
		}{
			{[]string{"pingtanjie", "shuitan"}, []string{a}},
			{[]string{""}, []string{c}},
			{nil, []string{a, c, d}},
		} {
			cases, err := db.StaffQueue(ctx, tc.units)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range cases {
				got = append(got, c.Number)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("StaffQueue(%q) = %v, want %v", tc.units, got, tc.want)
			}
		}
	})
}
