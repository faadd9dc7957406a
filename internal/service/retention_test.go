package service_test

import (
	"context"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

// Past the retention period, a closed case keeps its numbers and loses the
// resident's phone and openid; an open case, and one closed recently, keep
// them.
func TestRetentionErasesContactDetailsOfOldClosedCases(t *testing.T) {
	clock := testenv.NewClock(time.Date(2026, 1, 5, 10, 0, 0, 0, time.UTC))
	cfg := testConfig(t)
	cfg.Privacy.Retention.Duration = 90 * 24 * time.Hour
	ts := startService(t, cfg, clock)
	ctx := context.Background()
	old := ts.ReportCase(t, "oRetention_resident_00001")
	open := ts.ReportCase(t, "oRetention_resident_00002")
	resolve := func(number string) {
		c, err := ts.DB.Case(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ts.DB.Transition(ctx, lianxin.Transition{CaseID: c.ID, Status: lianxin.StatusResolved,
			Events: []lianxin.Event{{Type: lianxin.EventResolved, Actor: "staff"}}}); err != nil {
			t.Fatal(err)
		}
	}
	resolve(old)
	clock.Add(60 * 24 * time.Hour)
	recent := ts.ReportCase(t, "oRetention_resident_00003")
	resolve(recent)
	clock.Add(40 * 24 * time.Hour) // old: closed 100 days ago; recent: 40
	n, err := ts.ErasePass(ctx)
	if err != nil || n != 1 {
		t.Fatalf("erased %d, %v; want the one old closed case", n, err)
	}
	c, err := ts.DB.Case(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if c.Phone != "" || c.OpenID != "" || c.ErasedAt == nil || c.Status != lianxin.StatusResolved || c.Description == "" {
		t.Errorf("old case after retention: phone %q openid %q erased %v status %s", c.Phone, c.OpenID, c.ErasedAt, c.Status)
	}
	if last := c.Events[len(c.Events)-1]; last.Type != lianxin.EventErased || last.Actor != "system" {
		t.Errorf("no timeline entry for the erasure: %+v", last)
	}
	for _, number := range []string{open, recent} {
		c, err := ts.DB.Case(ctx, number)
		if err != nil {
			t.Fatal(err)
		}
		if c.Phone == "" || c.OpenID == "" || c.ErasedAt != nil {
			t.Errorf("%s (%s) lost its contact details", number, c.Status)
		}
	}
	log, err := ts.DB.AuditLog(ctx, lianxin.AuditFilter{Limit: 500})
	if err != nil || len(log) != 1 || log[0].Action != lianxin.AuditRetention || log[0].Subject != old {
		t.Errorf("audit = %+v, %v", log, err)
	}
	// A second pass finds nothing more to do.
	if n, err := ts.ErasePass(ctx); n != 0 || err != nil {
		t.Errorf("second pass erased %d, %v", n, err)
	}
}
