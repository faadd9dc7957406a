package store

import (
	"context"
	"reflect"
	"testing"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

// CreateCase returns a new case as written rather than reading it back: it
// must be the case the register holds, field for field.
func TestCreateCaseReturnsTheStoredCase(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		db := openTest(t, dsn())
		ctx := context.Background()
		num := lianxin.CaseNumbering{Prefix: "KQ", Location: yangquan}
		for i, r := range []lianxin.Report{
			report("oU", "gh:full"),
			{OpenID: "oV", Category: lianxin.Category{Key: "other"}, Description: "无期限、无来源键", Source: lianxin.SourceVisit,
				Location: lianxin.Location{Lat: 37.856, Lng: 113.5726, Label: "水滩社区", Address: "3号楼"}, Phone: "13812345678",
				Anonymous: true, ContactName: "王", GridID: "g1", Reporter: "网格员", NeedsStaff: true},
		} {
			assign := func(v lianxin.AssignView, number string) (lianxin.Assignment, error) {
				return lianxin.Assignment{AssigneeID: "d1"}, nil
			}
			got, created, err := db.CreateCase(ctx, num, r, nil, nil, assign)
			if err != nil || !created {
				t.Fatal(i, err, created)
			}
			stored, err := db.caseByID(ctx, got.ID)
			if err != nil {
				t.Fatal(err)
			}
			stored.Attachments, stored.Events, stored.Supporters = []lianxin.Attachment{}, []lianxin.Event{}, 0
			if !reflect.DeepEqual(got, stored) {
				t.Errorf("case %d returned\n%+v\nstored\n%+v", i, got, stored)
			}
		}
	})
}
