package main

import (
	"context"
	"fmt"
	"io"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/clitable"
	"github.com/lianxin/lianxin/web"
)

// cmdGrid lists grids and their workers and makes the one-time codes grid
// workers (网格员) bind their WeChat with.
func cmdGrid(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError("grid")
	}
	env, err := openOperatorEnv(ctx, getenv)
	if err != nil {
		return err
	}
	defer env.db.Close()
	dir, _, err := env.directory(ctx)
	if err != nil {
		return err
	}
	switch args[0] {
	case "list":
		var o options
		if rest, err := parse("grid list", &o, args[1:]); err != nil {
			return err
		} else if len(rest) > 0 {
			return usageError("grid list")
		}
		bound, err := env.db.GridBindings(ctx)
		if err != nil {
			return err
		}
		type row struct {
			Worker      string `json:"worker"`
			Name        string `json:"name"`
			Grid        string `json:"grid"`
			GridName    string `json:"grid_name"`
			Station     string `json:"station"`
			StationName string `json:"station_name"`
			Bound       bool   `json:"bound"`
		}
		rows := []row{}
		for _, g := range dir.Grids {
			for _, w := range g.Workers {
				_, b := bound[w.ID]
				rows = append(rows, row{w.ID, w.Name, g.ID, g.Name, g.StationID, env.stationName(g.StationID), b})
			}
		}
		if o.json {
			return writeJSON(stdout, rows)
		}
		var tb clitable.Table
		tb.Row("WORKER", "NAME", "GRID", "STATION", "BOUND")
		for _, r := range rows {
			b := "no"
			if r.Bound {
				b = "yes"
			}
			tb.Row(r.Worker, r.Name, r.GridName, r.StationName, b)
		}
		return tb.Write(stdout)
	case "invite":
		if len(args) != 2 {
			return usageError("grid invite")
		}
		w, g, ok := dir.GridWorker(args[1])
		if !ok {
			return fmt.Errorf("no grid worker %q in the directory (see lianxin grid list)", args[1])
		}
		code, expires, err := env.db.CreateGridInvite(ctx, w.ID, web.GridInviteTTL, lianxin.AuditEntry{Actor: actor(getenv), Action: "grid_invite"})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", code)
		fmt.Fprintf(stdout, "Give this code to %s (%s, %s). They send 「绑定 %s」 to the official account before %s.\n",
			w.Name, w.ID, g.Name, code, expires.In(env.cfg.Location()).Format("2006-01-02 15:04"))
		return nil
	case "unbind":
		if len(args) != 2 {
			return usageError("grid unbind")
		}
		w, _, ok := dir.GridWorker(args[1])
		if !ok {
			return fmt.Errorf("no grid worker %q in the directory (see lianxin grid list)", args[1])
		}
		bound, err := env.db.UnbindGridWorker(ctx, w.ID, lianxin.AuditEntry{Actor: actor(getenv), Action: "grid_unbind"})
		if err != nil {
			return err
		}
		if !bound {
			fmt.Fprintf(stdout, "%s (%s) is not bound: nothing to undo\n", w.ID, w.Name)
			return nil
		}
		fmt.Fprintf(stdout, "%s (%s) unbound: that WeChat no longer reports for residents. Give them a new code: lianxin grid invite %s\n", w.ID, w.Name, w.ID)
		return nil
	}
	return usageError("grid")
}
