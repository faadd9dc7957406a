package lianxin

import (
	"slices"
	"testing"
)

// TestScopeOf: who sees which cases. Staff see their station and its
// points; a deputy their own cases; a station head also the station's
// (points included), a point's head the point's; admins everything; a
// disabled account nothing.
func TestScopeOf(t *testing.T) {
	dir := &Directory{
		Stations: []Station{{ID: "st", Kind: StationKind}, {ID: "p1", Kind: PointKind, Parent: "st"}, {ID: "p2", Kind: PointKind, Parent: "st"}, {ID: "other", Kind: StationKind}},
		Deputies: []Deputy{{ID: "head", StationID: "st", Head: true}, {ID: "d", StationID: "st"}, {ID: "phead", StationID: "p1", Head: true}},
	}
	for _, tc := range []struct {
		u    User
		want Scope
	}{
		{User{Role: RoleAdmin}, Scope{All: true}},
		{User{Role: RoleStaff, StationID: "st"}, Scope{Units: []string{"st", "p1", "p2"}}},
		{User{Role: RoleStaff, StationID: "p1"}, Scope{Units: []string{"st", "p1", "p2"}}},
		{User{Role: RoleStaff}, Scope{}},
		{User{Role: RoleDeputy, DeputyID: "d"}, Scope{DeputyID: "d"}},
		{User{Role: RoleDeputy, DeputyID: "head"}, Scope{DeputyID: "head", Units: []string{"st", "p1", "p2"}}},
		{User{Role: RoleDeputy, DeputyID: "phead"}, Scope{DeputyID: "phead", Units: []string{"p1"}}},
		{User{Role: RoleAdmin, Disabled: true}, Scope{}},
		{User{Role: "visitor"}, Scope{}},
	} {
		got := dir.ScopeOf(tc.u)
		if got.All != tc.want.All || got.DeputyID != tc.want.DeputyID || !slices.Equal(got.Units, tc.want.Units) {
			t.Errorf("ScopeOf(%+v) = %+v, want %+v", tc.u, got, tc.want)
		}
	}
	s := dir.ScopeOf(User{Role: RoleDeputy, DeputyID: "d"})
	if !s.Allows("other", "d") || s.Allows("st", "head") || (Scope{}).Allows("st", "") {
		t.Error("Allows is wrong")
	}
}
