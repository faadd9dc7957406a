package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

// A database from before the register's history (migrations up to 006)
// gets its cases' rounds, assignees and ratings from their timelines.
func TestRegisterHistoryIsBackfilledFromTimelines(t *testing.T) {
	path := testenv.DBPath(t)
	ctx := context.Background()
	old, err := sqlx.Open("sqlite3", "file:"+path+"?_foreign_keys=on")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := old.Exec(`CREATE TABLE migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	names, _ := filepath.Glob("migrations/*.sql")
	for _, n := range names {
		if migrationNumber(n) > 6 {
			continue
		}
		body, err := migrations.ReadFile("migrations/" + filepath.Base(n))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := old.Exec(string(body)); err != nil {
			t.Fatalf("%s: %v", n, err)
		}
		if _, err := old.Exec(`INSERT INTO migrations VALUES (?, ?)`, filepath.Base(n), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	at := func(h int) time.Time { return time.Date(2026, 10, 1, h, 0, 0, 0, time.UTC) }
	// Registered at 0:00 (accept within 4 h, resolve within 48 h), taken up
	// at 1:00, resolved at 2:00, rated 不满意 and reopened at 3:00 (its
	// deadlines then moved to 7:00 and 51:00), resolved at 5:00, rated 满意.
	if _, err := old.Exec(`INSERT INTO cases (id, number, openid, status, category, station_id, assignee_id, description, phone, satisfaction,
		created_at, updated_at, accept_due, resolve_due, resolved_at) VALUES (1, 'KQ20261001-0001', 'oU', 'resolved', 'heating', 'shuitan', 'd1',
		'暖气不热', '13800000000', 'satisfied', ?, ?, ?, ?, ?)`, at(0), at(6), at(7), at(51), at(5)); err != nil {
		t.Fatal(err)
	}
	for _, e := range []struct {
		typ, text string
		h         int
	}{{"created", "", 0}, {"accepted", "", 1}, {"resolved", "", 2}, {"rated", "不满意", 3}, {"reopened", "", 3},
		{"answered", "好的", 4}, {"resolved", "修好了", 5}, {"rated", "满意", 6}} {
		if _, err := old.Exec(`INSERT INTO case_events (case_id, type, actor, text, at) VALUES (1, ?, 'deputy:d1', ?, ?)`, e.typ, e.text, at(e.h)); err != nil {
			t.Fatal(err)
		}
	}
	old.Close()
	db := openTest(t, path)
	rounds, err := db.Rounds(ctx, 1)
	if err != nil || len(rounds) != 2 {
		t.Fatalf("rounds = %+v, %v", rounds, err)
	}
	r1, r2 := rounds[0], rounds[1]
	if !r1.Start.Equal(at(0)) || !r1.AcceptedAt.Equal(at(1)) || !r1.ClosedAt.Equal(at(2)) || r1.Outcome != "resolved" || !r1.AcceptDue.Equal(at(4)) || !r1.ResolveDue.Equal(at(48)) {
		t.Errorf("first round = %+v", r1)
	}
	if !r2.Start.Equal(at(3)) || !r2.AcceptedAt.Equal(at(4)) || !r2.ClosedAt.Equal(at(5)) || !r2.AcceptDue.Equal(at(7)) {
		t.Errorf("second round = %+v", r2)
	}
	var ratings []string
	if err := db.read.Select(&ratings, `SELECT rating FROM case_ratings WHERE case_id = 1 ORDER BY at`); err != nil {
		t.Fatal(err)
	}
	if len(ratings) != 2 || ratings[0] != lianxin.Unsatisfied || ratings[1] != lianxin.Satisfied {
		t.Errorf("ratings = %v", ratings)
	}
	// And from here on the triggers keep it.
	if _, err := db.Transition(ctx, lianxin.Transition{CaseID: 1, Status: lianxin.StatusReopened}); err != nil {
		t.Fatal(err)
	}
	if rounds, _ := db.Rounds(ctx, 1); len(rounds) != 3 {
		t.Errorf("after another 重办: %d rounds", len(rounds))
	}
}
