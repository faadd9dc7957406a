package service_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
)

// A station's clerk gives cases to their own station's deputies: the page
// offers only those, and a form naming another station's deputy (an old
// page, a crafted request) is refused, on the case page and in bulk.
func TestStaffAssignOnlyToTheirDeputies(t *testing.T) {
	f := newConsoleFixture(t)
	ctx := context.Background()
	before, _ := f.DB.Case(ctx, f.number)
	if code, _ := f.act(t, f.clerk, f.number, "assign", url.Values{"deputy": {"d-sy-02"}}); code != http.StatusBadRequest {
		t.Errorf("assigning 平潭街's case to 赛鱼's 沈示范 on the case page: HTTP %d, want 400", code)
	}
	f.Post(t, f.clerk, "/console/cases/assign", url.Values{"case": {f.number}, "deputy": {"d-sy-02"}, "back": {"/console/cases"}})
	if got, _ := f.DB.Case(ctx, f.number); got.AssigneeID != before.AssigneeID {
		t.Errorf("平潭街's clerk gave %s to %s", f.number, got.AssigneeID)
	}
	// The district office may.
	if code, _ := f.act(t, f.admin, f.number, "assign", url.Values{"deputy": {"d-sy-02"}}); code != http.StatusSeeOther {
		t.Errorf("an admin assigning across stations: HTTP %d", code)
	}
}
