package store

import (
	"context"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

// A case reopened twice gets its category's windows from each reopening.
// (The second reopening used to measure them from the current deadlines and
// stretched them by the whole first round.)
func TestReopenedCaseGetsItsWindowsFromEachReopening(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		db := openTest(t, dsn())
		ctx := context.Background()
		t0 := time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)
		now := t0
		db.Now = func() time.Time { return now }
		c, _, err := db.CreateCase(ctx, lianxin.CaseNumbering{Prefix: "KQ", Location: yangquan}, report("oU", "s1"), nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		step := func(d time.Duration, tr lianxin.Transition) *lianxin.Case {
			t.Helper()
			now = now.Add(d)
			tr.CaseID = c.ID
			got, err := db.Transition(ctx, tr)
			if err != nil {
				t.Fatal(err)
			}
			return got
		}
		for i := range 2 {
			step(time.Hour, lianxin.Transition{Status: lianxin.StatusResolved})
			got := step(10*24*time.Hour, lianxin.Transition{Status: lianxin.StatusReopened, Satisfaction: lianxin.Unsatisfied})
			// heating in the fixture: 4 hours to accept, 2 days to resolve.
			if !got.AcceptDue.Equal(now.Add(4*time.Hour)) || !got.ResolveDue.Equal(now.Add(48*time.Hour)) {
				t.Errorf("reopening %d at %v: accept by %v, resolve by %v", i+1, now, got.AcceptDue, got.ResolveDue)
			}
		}
		rounds, err := db.Rounds(ctx, c.ID)
		if err != nil || len(rounds) != 3 {
			t.Fatalf("rounds = %+v, %v", rounds, err)
		}
		if r := rounds[2]; !r.Start.Equal(now) || r.ClosedAt != nil || !r.AcceptDue.Equal(now.Add(4*time.Hour)) {
			t.Errorf("third round = %+v", r)
		}
		if r := rounds[0]; !r.Start.Equal(t0) || r.Outcome != "resolved" || !r.ClosedAt.Equal(t0.Add(time.Hour)) || !r.AcceptedAt.Equal(*r.ClosedAt) {
			t.Errorf("first round = %+v (resolved straight away: taken up then too)", r)
		}
	})
}

// The history is kept whichever way a case changes: a status, an assignee,
// a rating set by any statement.
func TestHistoryIsKeptByTriggers(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		db := openTest(t, dsn())
		ctx := context.Background()
		now := time.Date(2026, 11, 2, 1, 0, 0, 0, time.UTC)
		db.Now = func() time.Time { return now }
		r := report("oU", "s1")
		r.Anonymous = true
		c, _, err := db.CreateCase(ctx, lianxin.CaseNumbering{Prefix: "KQ", Location: yangquan}, r, nil, nil,
			func(lianxin.AssignView, string) (lianxin.Assignment, error) {
				return lianxin.Assignment{AssigneeID: "d1"}, nil
			})
		if err != nil {
			t.Fatal(err)
		}
		if !c.Anonymous {
			t.Error("the resident's wish to stay anonymous was not kept")
		}
		now = now.Add(time.Hour)
		d2 := "d2"
		if _, err := db.Transition(ctx, lianxin.Transition{CaseID: c.ID, Assignee: &d2, Status: lianxin.StatusForwarded}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour)
		if _, err := db.Transition(ctx, lianxin.Transition{CaseID: c.ID, Status: lianxin.StatusResolved}); err != nil {
			t.Fatal(err)
		}
		now = now.Add(time.Hour)
		if _, err := db.Transition(ctx, lianxin.Transition{CaseID: c.ID, Satisfaction: lianxin.FairlySatisfied}); err != nil {
			t.Fatal(err)
		}
		var assignees []string
		if err := db.read.Select(&assignees, `SELECT deputy_id FROM case_assignees WHERE case_id = ? ORDER BY id`, c.ID); err != nil {
			t.Fatal(err)
		}
		var ratings []string
		if err := db.read.Select(&ratings, `SELECT rating FROM case_ratings WHERE case_id = ? ORDER BY id`, c.ID); err != nil {
			t.Fatal(err)
		}
		rounds, _ := db.Rounds(ctx, c.ID)
		if len(assignees) != 2 || assignees[0] != "d1" || assignees[1] != "d2" || len(ratings) != 1 || ratings[0] != lianxin.FairlySatisfied ||
			len(rounds) != 1 || rounds[0].AcceptedAt == nil || !rounds[0].AcceptedAt.Equal(now.Add(-2*time.Hour)) {
			t.Errorf("assignees %v, ratings %v, rounds %+v", assignees, ratings, rounds)
		}
	})
}
