package report_test

import (
	"context"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/flows"
	"github.com/lianxin/lianxin/internal/registertest"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/report"
	"github.com/lianxin/lianxin/store"
)

// fixture is the October register (registertest.October) with a reporter
// over it, its clock at 5 November 2026 12:00.
type fixture struct {
	db    *store.DB
	rep   *report.Reporter
	cases map[string]*lianxin.Case
	dir   *lianxin.Directory
	now   time.Time
}

func texts(t testing.TB) flows.Texts {
	t.Helper()
	b, err := configs.ReadData("", "messages.yaml")
	if err != nil {
		t.Fatal(err)
	}
	tx, err := flows.LoadTexts(b)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, testenv.DBPath(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	cases, err := registertest.October(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	dir, cats, err := registertest.Data()
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{db: db, cases: cases, dir: dir, now: registertest.At(11, 5, 12, 0)}
	db.Now = func() time.Time { return f.now }
	f.rep = report.New(report.Config{Register: db, Snapshots: db, Texts: texts(t), Directory: dir, Categories: cats,
		Location: registertest.CST, Now: func() time.Time { return f.now }})
	return f
}

func october() lianxin.CaseFilter {
	from, to, _ := lianxin.MonthRange("2026-10", registertest.CST)
	return lianxin.CaseFilter{From: from, To: to}
}

func TestTextKeysAreInMessages(t *testing.T) {
	tx := texts(t)
	for _, k := range append(report.TextKeys, "anonymous_phone") {
		if _, ok := tx[k]; !ok {
			t.Errorf("configs/messages.yaml lacks %s", k)
		}
	}
}
