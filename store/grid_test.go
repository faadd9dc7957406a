package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

func gridDir() *lianxin.Directory {
	return &lianxin.Directory{
		Stations: []lianxin.Station{{ID: "shuitan", Name: "水滩", Kind: lianxin.StationKind}},
		Grids: []lianxin.Grid{{ID: "g1", Name: "一网格", StationID: "shuitan", Places: []string{"水滩一区"},
			Workers: []lianxin.GridWorker{{ID: "w1", Name: "张网格"}, {ID: "w2", Name: "王网格"}}}},
	}
}

// TestGridWorkersBindOnce: a code binds its worker once; one WeChat is one
// worker; unknown workers get no code; the binding limits hold.
func TestGridWorkersBindOnce(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		db := openTest(t, dsn())
		if _, err := db.ImportDirectory(ctx, gridDir(), nil, false); err != nil {
			t.Fatal(err)
		}
		dir, _, err := db.LoadDirectory(ctx)
		if err != nil || len(dir.Grids) != 1 || len(dir.Grids[0].Workers) != 2 {
			t.Fatalf("grids as loaded: %v %+v", err, dir.Grids)
		}
		if _, _, err := db.CreateGridInvite(ctx, "nobody", time.Hour, lianxin.AuditEntry{}); lianxin.ErrorCode(err) != lianxin.ENOTFOUND {
			t.Errorf("an unknown worker's code: %v", err)
		}
		code, _, err := db.CreateGridInvite(ctx, "w1", time.Hour, lianxin.AuditEntry{Actor: "t"})
		if err != nil {
			t.Fatal(err)
		}
		if _, found, err := db.BindGrid(ctx, "000000x", "oX"); found || err != nil {
			t.Errorf("a wrong code: found %v, %v", found, err)
		}
		id, found, err := db.BindGrid(ctx, code, "oWorker")
		if err != nil || !found || id != "w1" {
			t.Fatalf("binding: %s %v %v", id, found, err)
		}
		if _, found, _ := db.BindGrid(ctx, code, "oOther"); found {
			t.Error("a used code bound again")
		}
		// The same WeChat binding as another worker moves the binding.
		code2, _, _ := db.CreateGridInvite(ctx, "w2", time.Hour, lianxin.AuditEntry{})
		if id, found, _ := db.BindGrid(ctx, code2, "oWorker"); !found || id != "w2" {
			t.Errorf("rebinding: %s %v", id, found)
		}
		bound, _ := db.GridBindings(ctx)
		if _, ok := bound["w1"]; ok || len(bound) != 1 {
			t.Errorf("bindings: %v", bound)
		}
		if w, ok, _ := db.GridWorkerByOpenID(ctx, "oWorker"); !ok || w != "w2" {
			t.Errorf("GridWorkerByOpenID: %s %v", w, ok)
		}
		// Past the sender's limit of wrong codes every attempt is refused.
		for range lianxin.BindLimit {
			db.Bind(ctx, "999999", "oGuesser") // deputies' Bind counts the failures
		}
		code3, _, _ := db.CreateGridInvite(ctx, "w1", time.Hour, lianxin.AuditEntry{})
		if _, _, err := db.BindGrid(ctx, code3, "oGuesser"); !errors.Is(err, lianxin.ErrTooManyTries) {
			t.Errorf("after %d wrong codes: %v", lianxin.BindLimit, err)
		}
		if ok, _ := db.UnbindGridWorker(ctx, "w2", lianxin.AuditEntry{Actor: "t"}); !ok {
			t.Error("unbinding a bound worker says it was not bound")
		}
	})
}
