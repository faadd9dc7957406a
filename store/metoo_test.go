package store

import (
	"context"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

// TestNearbyOpenCasesAndJoin: the offer finds open cases of the category
// within the radius, nearest first, never the resident's own or one they
// joined; joining is idempotent and refused once the case is closed; the
// supporters hear of a change in its transaction.
func TestNearbyOpenCasesAndJoin(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		db := openTest(t, dsn())
		num := lianxin.CaseNumbering{Prefix: "KQ", Location: yangquan}
		file := func(openid, key string, lat, lng float64, cat string) *lianxin.Case {
			r := report(openid, key)
			r.Category.Key, r.Location = cat, lianxin.Location{Lat: lat, Lng: lng}
			c, _, err := db.CreateCase(ctx, num, r, nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			return c
		}
		near := file("oA", "k1", 37.8560, 113.5726, "heating")
		nearer := file("oB", "k2", 37.8566, 113.5726, "heating") // 67 m from the point below
		file("oC", "k3", 37.8580, 113.5726, "roads")             // another category
		file("oD", "k4", 37.8700, 113.5726, "heating")           // 1.4 km
		p := lianxin.Point{Lat: 37.8572, Lng: 113.5726}
		got, err := db.NearbyOpenCases(ctx, "heating", p, 250, time.Now().Add(-time.Hour), "oZ")
		if err != nil || len(got) != 2 || got[0].ID != nearer.ID || got[1].ID != near.ID {
			t.Fatalf("nearby: %v %+v", err, got)
		}
		if got, _ := db.NearbyOpenCases(ctx, "heating", p, 250, time.Now().Add(-time.Hour), "oB"); len(got) != 1 || got[0].ID != near.ID {
			t.Errorf("the resident's own case is offered to them: %+v", got)
		}
		var told []string
		db.SupporterNotices = func(c lianxin.Case, evs []lianxin.Event, sup []lianxin.Supporter, idem string) []lianxin.Notice {
			var out []lianxin.Notice
			for _, s := range sup {
				told = append(told, s.OpenID)
				out = append(out, lianxin.Notice{IdemKey: idem + s.OpenID, Kind: lianxin.OutboxText, Recipient: s.OpenID, Payload: lianxin.TextPayload{Text: "x"}})
			}
			return out
		}
		join := lianxin.Join{CaseID: near.ID, OpenID: "oZ", Text: "我家也是", SourceKey: "j1"}
		if n, err := db.JoinCase(ctx, join); err != nil || n != 2 {
			t.Fatalf("join: %d %v", n, err)
		}
		if n, err := db.JoinCase(ctx, join); err != nil || n != 2 {
			t.Errorf("joining again: %d %v", n, err)
		}
		if got, _ := db.NearbyOpenCases(ctx, "heating", p, 250, time.Now().Add(-time.Hour), "oZ"); len(got) != 1 || got[0].ID != nearer.ID {
			t.Errorf("a case the resident joined is offered again: %+v", got)
		}
		if fc, _ := db.FollowedCases(ctx, "oZ", 5); len(fc) != 1 || fc[0].ID != near.ID {
			t.Errorf("followed: %+v", fc)
		}
		if _, err := db.Transition(ctx, lianxin.Transition{CaseID: near.ID, Status: lianxin.StatusResolved,
			Events: []lianxin.Event{{Type: lianxin.EventResolved, Text: "修好了", Audience: lianxin.AudienceResident}}}); err != nil {
			t.Fatal(err)
		}
		if len(told) != 1 || told[0] != "oZ" {
			t.Errorf("supporters told: %v", told)
		}
		if notices, _ := db.CaseNotices(ctx, near.ID); len(notices) != 1 || notices[0].Recipient != "oZ" {
			t.Errorf("the supporter's notice is not with the case: %+v", notices)
		}
		if _, err := db.JoinCase(ctx, lianxin.Join{CaseID: near.ID, OpenID: "oY", SourceKey: "j2"}); lianxin.ErrorCode(err) != lianxin.ECONFLICT {
			t.Errorf("joining a resolved case: %v", err)
		}
		// Past the retention period the supporters are forgotten with the resident.
		if n, err := db.EraseExpired(ctx, time.Now().Add(time.Hour), 10); err != nil || n != 1 {
			t.Fatalf("retention: %d %v", n, err)
		}
		if sup, _ := db.Supporters(ctx, near.ID); len(sup) != 1 || sup[0].OpenID == "oZ" || sup[0].Text != "" {
			t.Errorf("supporters after retention: %+v", sup)
		}
		if got, _ := db.Case(ctx, near.Number); got.Supporters != 1 {
			t.Errorf("the count after retention: %d", got.Supporters)
		}
	})
}
