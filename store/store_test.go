package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

func openTest(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var yangquan = time.FixedZone("CST", 8*3600)

func report(openid, source string) lianxin.Report {
	return lianxin.Report{SourceKey: source, OpenID: openid, Category: lianxin.Category{Key: "heating", AcceptHours: 4, ResolveDays: 2},
		Description: "暖气不热", StationID: "shuitan", StationReason: "定位在辖区内"}
}

func TestCaseNumbersAreUniqueAndSequentialAcrossProcesses(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		path := dsn()
		dbs := []*DB{openTest(t, path), openTest(t, path)} // two serve processes, one file
		day := time.Date(2026, 11, 27, 23, 30, 0, 0, yangquan)
		for _, db := range dbs {
			db.Now = func() time.Time { return day }
		}
		num := lianxin.CaseNumbering{Prefix: "KQ", Location: yangquan}
		const n = 40
		numbers := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, created, err := dbs[i%2].CreateCase(context.Background(), num, report("oU", fmt.Sprintf("gh:%d", i)), nil, nil, nil)
				if err != nil || !created {
					t.Errorf("case %d: %v created=%v", i, err, created)
					return
				}
				numbers[i] = c.Number
			}()
		}
		wg.Wait()
		seen := map[string]bool{}
		for _, num := range numbers {
			seen[num] = true
		}
		for i := 1; i <= n; i++ {
			want := fmt.Sprintf("KQ20261127-%04d", i)
			if !seen[want] {
				t.Errorf("%s missing; got %v", want, numbers)
			}
		}
		// The day is the station's local day: 23:30 in Yangquan is still the 27th,
		// and the next morning starts again at 0001.
		dbs[0].Now = func() time.Time { return day.Add(time.Hour) }
		c, _, err := dbs[0].CreateCase(context.Background(), num, report("oU", "gh:next"), nil, nil, nil)
		if err != nil || c.Number != "KQ20261128-0001" {
			t.Errorf("next day: %v %v", c, err)
		}
	})
}

func TestCreateCaseIsIdempotentPerSubmission(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		db := openTest(t, dsn())
		ctx := context.Background()
		photo := &lianxin.Inbound{Account: "gh", OpenID: "oU", Kind: lianxin.KindImage, MsgID: 77, CreateTime: time.Now().Unix(), MediaID: "M77"}
		id, err := db.RegisterAttachment(ctx, photo)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := db.RegisterAttachment(ctx, photo); again != id {
			t.Errorf("registering the same photo twice gave %d and %d", id, again)
		}
		r := report("oU", "gh:confirm-1")
		r.Attachments = []int64{id}
		r.Phone = "13812345678"
		num := lianxin.CaseNumbering{Prefix: "KQ", Location: yangquan}
		events := []lianxin.Event{{Type: lianxin.EventCreated, Actor: "resident"}}
		notices := []lianxin.Notice{{IdemKey: "n1", Kind: lianxin.OutboxText, Recipient: "oDeputy", Payload: lianxin.TextPayload{Text: "新反映"}}}
		first, created, err := db.CreateCase(ctx, num, r, events, notices, nil)
		if err != nil || !created {
			t.Fatal(err, created)
		}
		second, created, err := db.CreateCase(ctx, num, r, events, notices, nil)
		if err != nil || created || second.Number != first.Number {
			t.Errorf("resubmitting: %v created=%v number %s vs %s", err, created, second.Number, first.Number)
		}
		full, err := db.Case(ctx, first.Number)
		if err != nil || len(full.Attachments) != 1 || full.Attachments[0].ID != id || len(full.Events) != 1 {
			t.Errorf("case details: %+v %v", full, err)
		}
		if first.AcceptDue == nil || first.ResolveDue == nil || first.ResolveDue.Sub(first.CreatedAt) != 48*time.Hour {
			t.Errorf("deadlines: %v %v", first.AcceptDue, first.ResolveDue)
		}
		out, _ := db.Outbox(ctx, 10)
		if len(out) != 1 || out[0].CaseID == nil || *out[0].CaseID != first.ID {
			t.Errorf("outbox: %+v", out)
		}
	})
}

func TestOneFailingWriteDoesNotSpoilItsGroup(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		db := openTest(t, dsn())
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make([]error, 30)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = db.Tx(ctx, func(tx *Tx) error {
					if _, err := tx.Exec(`INSERT INTO case_counters (day, last) VALUES (?, 1)`, fmt.Sprint(i)); err != nil {
						return err
					}
					switch i % 10 {
					case 3:
						return errors.New("refused")
					case 7:
						panic("bug in a write")
					}
					return nil
				})
			}()
		}
		wg.Wait()
		var n int
		db.read.Get(&n, `SELECT COUNT(*) FROM case_counters`)
		if n != 24 {
			t.Errorf("%d rows committed, want 24 (30 minus 3 refused and 3 panicked)", n)
		}
		for i, err := range errs {
			if (i%10 == 3 || i%10 == 7) != (err != nil) {
				t.Errorf("write %d: err = %v", i, err)
			}
		}
	})
}

func TestMigrationsApplyOnceAndSurviveReopen(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		path := dsn()
		db := openTest(t, path)
		var first int
		db.read.Get(&first, `SELECT COUNT(*) FROM migrations`)
		db.Close()
		again := openTest(t, path)
		var second int
		again.read.Get(&second, `SELECT COUNT(*) FROM migrations`)
		if first == 0 || first != second {
			t.Errorf("migrations recorded: %d then %d", first, second)
		}
	})
}

// Routing balances on each deputy's open cases; the counts it reads must
// follow every way a case moves: assigned at registration, accepted,
// forwarded to another deputy, resolved, reopened, handed to staff.
func TestOpenCountsFollowEveryCaseMove(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		db := openTest(t, dsn())
		num := lianxin.CaseNumbering{Prefix: "KQ", Location: yangquan}
		to := func(id string) lianxin.Assigner {
			return func(lianxin.AssignView, string) (lianxin.Assignment, error) {
				return lianxin.Assignment{AssigneeID: id}, nil
			}
		}
		var cases []*lianxin.Case
		for i, who := range []string{"d1", "d1", "d1", "d2", ""} {
			a := to(who)
			if who == "" {
				a = nil
			}
			c, _, err := db.CreateCase(ctx, num, report("oU", fmt.Sprintf("gh:open:%d", i)), nil, nil, a)
			if err != nil {
				t.Fatal(err)
			}
			cases = append(cases, c)
		}
		move := func(c *lianxin.Case, status lianxin.Status, assignee *string) {
			t.Helper()
			if _, err := db.Transition(ctx, lianxin.Transition{CaseID: c.ID, Status: status, Assignee: assignee}); err != nil {
				t.Fatal(err)
			}
		}
		d2, d3, none := "d2", "d3", ""
		move(cases[0], lianxin.StatusAccepted, nil)    // d1 still has it
		move(cases[1], lianxin.StatusResolved, nil)    // d1 done
		move(cases[2], lianxin.StatusForwarded, &d2)   // d1 → d2
		move(cases[3], lianxin.StatusResolved, nil)    // d2 done
		move(cases[3], lianxin.StatusReopened, nil)    // d2 again (重办)
		move(cases[4], lianxin.StatusRegistered, &d3)  // staff → d3
		move(cases[0], lianxin.StatusCancelled, &none) // d1's last one withdrawn

		got, err := db.AssignView().OpenCounts([]string{"d1", "d2", "d3", "d4"})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int{"d2": 2, "d3": 1}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("open counts %v, want %v", got, want)
		}
		// And they agree with counting the cases themselves.
		var counted []struct {
			ID string `db:"assignee_id"`
			N  int    `db:"n"`
		}
		if err := db.read.Select(&counted, `SELECT assignee_id, COUNT(*) AS n FROM cases WHERE assignee_id <> ''
		AND status IN ('registered', 'accepted', 'forwarded', 'reopened') GROUP BY assignee_id`); err != nil {
			t.Fatal(err)
		}
		for _, c := range counted {
			if got[c.ID] != c.N {
				t.Errorf("%s: counter %d, cases %d", c.ID, got[c.ID], c.N)
			}
		}
	})
}

// A commit-only journal record is not left off the disk: closing the
// database syncs every commit, whether or not a durable write came after.
func TestCloseSyncsCommitOnlyWrites(t *testing.T) {
	db, err := Open(context.Background(), testenv.DBPath(t))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 20; i++ {
		m := &lianxin.Inbound{Account: "gh", OpenID: "oLazy", Kind: lianxin.KindText, MsgID: int64(1000 + i), CreateTime: 1, Text: "报事"}
		if _, err := db.JournalCommitted(context.Background(), m, lianxin.OutcomeReplied, "好的", nil); err != nil {
			t.Fatal(err)
		}
	}
	w := db.w
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if w.synced != w.committed || w.committed == 0 {
		t.Fatalf("after close: %d commits, %d synced", w.committed, w.synced)
	}
}

// Every SQLite migration has its PostgreSQL port under the same name, and
// no port is left without its SQLite original: a migration added on one
// side only fails here, naming it.
func TestEveryMigrationHasItsPostgresPort(t *testing.T) {
	names := func(fsys fs.FS, glob string) map[string]bool {
		files, err := fs.Glob(fsys, glob)
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]bool{}
		for _, f := range files {
			out[path.Base(f)] = true
		}
		return out
	}
	lite, pg := names(migrations, "migrations/*.sql"), names(pgMigrations, "migrations/postgres/*.sql")
	for n := range lite {
		if !pg[n] {
			t.Errorf("migrations/%s has no PostgreSQL port: write migrations/postgres/%s (porting rules: store's package doc)", n, n)
		}
	}
	for n := range pg {
		if !lite[n] {
			t.Errorf("migrations/postgres/%s has no SQLite migration of that name", n)
		}
	}
}

// Two processes acting on one case at once (a deputy accepting from chat on
// one replica while staff accept it in the console on another): the
// transition that requires the case to be registered succeeds once, and
// the case's timeline has one acceptance.
func TestConcurrentTransitionsOnOneCaseApplyOnce(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		path := dsn()
		a, b := openTest(t, path), openTest(t, path)
		num := lianxin.CaseNumbering{Prefix: "KQ", Location: yangquan}
		for i := range 10 {
			c, _, err := a.CreateCase(ctx, num, report("oU", fmt.Sprintf("gh:race:%d", i)), nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			var ok atomic.Int32
			for _, db := range []*DB{a, b} {
				wg.Add(1)
				go func() {
					defer wg.Done()
					_, err := db.Transition(ctx, lianxin.Transition{CaseID: c.ID, From: []lianxin.Status{lianxin.StatusRegistered},
						Status: lianxin.StatusAccepted, Events: []lianxin.Event{{Type: lianxin.EventAccepted, Actor: "deputy:d1"}}})
					if err == nil {
						ok.Add(1)
					} else if lianxin.ErrorCode(err) != lianxin.ECONFLICT {
						t.Errorf("case %d: %v", i, err)
					}
				}()
			}
			wg.Wait()
			full, err := a.Case(ctx, c.Number)
			if err != nil {
				t.Fatal(err)
			}
			if ok.Load() != 1 || len(full.Events) != 1 {
				t.Errorf("case %d: %d transitions succeeded, %d events; want 1 and 1", i, ok.Load(), len(full.Events))
			}
		}
	})
}
