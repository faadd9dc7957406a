package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/registertest"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/store"
)

// A district's register moves from SQLite to PostgreSQL without loss: every
// table copied and checked; the register reads the same (cases, timelines,
// search, the month's figures, open counts); numbering, ids and
// conversations carry on; and a target that holds anything is refused
// unless --force.
func TestMigrateStoreMovesTheRegister(t *testing.T) {
	ctx := context.Background()
	path := testenv.DBPath(t)
	pgURL := testenv.PostgresURL(t)
	lite, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	cases, err := registertest.October(ctx, lite)
	if err != nil {
		t.Fatal(err)
	}
	dir, cats, err := registertest.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := registertest.Bulk(ctx, lite, dir, cats, registertest.BulkOptions{Cases: 300, From: registertest.At(9, 1, 8, 0),
		To: registertest.At(11, 20, 8, 0), Now: registertest.At(11, 25, 8, 0), Seed: 16}); err != nil {
		t.Fatal(err)
	}
	// The rest of what a register holds: the journal, residents, photos,
	// console accounts and their sessions, the audit log.
	m := &lianxin.Inbound{Account: "gh", OpenID: "oMigrate0001", Kind: lianxin.KindImage, MsgID: 4242, CreateTime: time.Now().Unix(), MediaID: "M1", PicURL: "http://x/p.jpg"}
	if _, err := lite.Journal(ctx, m, lianxin.OutcomeReplied, "收到照片。", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := lite.RegisterAttachment(ctx, m); err != nil {
		t.Fatal(err)
	}
	u, err := lite.AddUser(ctx, lianxin.User{Username: "clerk", Role: lianxin.RoleStaff, StationID: "pingtanjie"}, "$argon2id$x", lianxin.AuditEntry{Actor: "admin", Action: "user_add"})
	if err != nil {
		t.Fatal(err)
	}
	if err := lite.CreateSession(ctx, "sess-hash", u.ID, "127.0.0.1", "test", lianxin.AuditEntry{Actor: "clerk", Action: "login"}); err != nil {
		t.Fatal(err)
	}
	instance, _ := lite.InstanceID(ctx)
	lite.Close()

	env := func(string) string { return "" }
	out, errOut, code := runIn(t, env, "migrate-store", "--from", "sqlite://"+path, "--to", pgURL)
	if code != 0 {
		t.Fatalf("migrate-store: exit %d: %s\n%s", code, errOut, out)
	}
	for _, table := range []string{"cases", "case_events", "case_rounds", "case_ratings", "journal", "attachments", "outbox", "users", "sessions", "audit_log", "deputy_open_cases", "case_counters"} {
		if !strings.Contains(out, "\n"+table+" ") {
			t.Errorf("no line for %s:\n%s", table, out)
		}
	}
	if strings.Contains(out, "DIFFERS") || !strings.Contains(out, "ok: ") {
		t.Errorf("migrate-store said:\n%s", out)
	}

	lite, _ = store.Open(ctx, path)
	defer lite.Close()
	pg, err := store.Open(ctx, pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	// The register reads the same.
	read := func(db *store.DB) string {
		var b strings.Builder
		all, err := db.Cases(ctx, lianxin.CaseFilter{})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%d cases\n", len(all))
		numbers := make([]string, 0, len(cases))
		for _, c := range cases {
			numbers = append(numbers, c.Number)
		}
		sort.Strings(numbers)
		for _, n := range numbers {
			full, err := db.Case(ctx, n)
			if err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %s %s %s %v %d events %d attachments\n", full.Number, full.Status, full.AssigneeID, full.CreatedAt.Format(time.RFC3339Nano), full.NeedsStaff, len(full.Events), len(full.Attachments))
			for _, e := range full.Events {
				fmt.Fprintf(&b, "  %s %s %s %s\n", e.Type, e.Actor, e.Text, e.At.Format(time.RFC3339Nano))
			}
		}
		page, err := db.CaseList(ctx, lianxin.Scope{All: true}, lianxin.CaseQuery{Search: "暖气", PerPage: 200})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "search 暖气: %d\n", page.Total)
		counts, err := db.CountMeasures(ctx, lianxin.CaseFilter{From: registertest.At(10, 1, 0, 0), To: registertest.At(11, 1, 0, 0)}, lianxin.Measures)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range lianxin.Measures {
			fmt.Fprintf(&b, "%s=%d ", m, counts[m])
		}
		open, err := db.AssignView().OpenCounts([]string{"d-st-01", "d-st-02", "d-st-03", "d-ptj-01", "d-ptj-02"})
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "\nopen %v\n", open)
		return b.String()
	}
	if a, b := read(lite), read(pg); a != b {
		t.Errorf("the register reads differently after the move:\nSQLite:\n%s\nPostgreSQL:\n%s", a, b)
	}
	if id, _ := pg.InstanceID(ctx); id != instance {
		t.Errorf("instance %q, want the SQLite register's %q (conversations in Redis are kept under it)", id, instance)
	}
	if _, err := pg.Session(ctx, "sess-hash", 1000*time.Hour); err != nil {
		t.Errorf("a console session did not carry over: %v", err)
	}
	// Numbering and ids carry on from where SQLite left them.
	pg.Now = func() time.Time { return registertest.At(10, 12, 9, 0) }
	c, created, err := pg.CreateCase(ctx, lianxin.CaseNumbering{Prefix: "KQ", Location: registertest.CST},
		lianxin.Report{SourceKey: "gh:after-move", OpenID: "oAfter", Category: lianxin.Category{Key: "heating"}, Description: "迁移之后"}, nil, nil, nil)
	if err != nil || !created {
		t.Fatal(err, created)
	}
	lite.Now = pg.Now
	var maxID int64
	var sameDay int
	all, _ := lite.Cases(ctx, lianxin.CaseFilter{})
	for _, x := range all {
		maxID = max(maxID, x.ID)
		if strings.HasPrefix(x.Number, "KQ20261012-") {
			sameDay++
		}
	}
	if c.ID <= maxID || c.Number != fmt.Sprintf("KQ20261012-%04d", sameDay+1) {
		t.Errorf("new case %d %s after the move; SQLite's last id %d, %d cases that day", c.ID, c.Number, maxID, sameDay)
	}

	// Not into a register that holds anything, unless asked.
	_, errOut, code = runIn(t, env, "migrate-store", "--from", "sqlite://"+path, "--to", pgURL)
	if code == 0 || !strings.Contains(errOut, "not empty") || !strings.Contains(errOut, "--force") {
		t.Errorf("a second copy into a full database: exit %d: %s", code, errOut)
	}
	out, errOut, code = runIn(t, env, "migrate-store", "--from", "sqlite://"+path, "--to", pgURL, "--force")
	if code != 0 || strings.Contains(out, "DIFFERS") {
		t.Errorf("--force: exit %d: %s\n%s", code, errOut, out)
	}
	if _, err := pg.Case(ctx, c.Number); err == nil {
		t.Errorf("--force kept the case registered after the first copy")
	}
	// And the operator is told what is wrong with the arguments.
	for _, args := range [][]string{
		{"migrate-store", "--from", "sqlite://" + path},
		{"migrate-store", "--from", pgURL, "--to", pgURL},
		{"migrate-store", "--from", "sqlite:///nonexistent/lianxin.db", "--to", pgURL},
	} {
		if _, errOut, code := runIn(t, env, args...); code == 0 || errOut == "" {
			t.Errorf("%v: exit %d %q", args, code, errOut)
		}
	}
}
