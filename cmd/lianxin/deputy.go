package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/clitable"
)

// cmdDeputy lists deputies and makes the one-time codes they bind their
// WeChat with.
func cmdDeputy(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError("deputy")
	}
	env, err := openOperatorEnv(ctx, getenv)
	if err != nil {
		return err
	}
	defer env.db.Close()
	if _, _, err := env.directory(ctx); err != nil {
		return err
	}
	switch args[0] {
	case "list":
		var o options
		if rest, err := parse("deputy list", &o, args[1:]); err != nil {
			return err
		} else if len(rest) > 0 {
			return usageError("deputy list")
		}
		asJSON := &o.json
		recs, err := env.db.DeputyRecords(ctx)
		if err != nil {
			return err
		}
		type row struct {
			ID          string   `json:"id"`
			Name        string   `json:"name"`
			Level       string   `json:"level"`
			Station     string   `json:"station"`
			StationName string   `json:"station_name"`
			Head        bool     `json:"head"`
			Specialties []string `json:"specialties"`
			Bound       bool     `json:"bound"`
			Active      bool     `json:"active"`
		}
		rows := make([]row, len(recs))
		for i, r := range recs {
			rows[i] = row{r.ID, r.Name, r.Level, r.StationID, env.stationName(r.StationID), r.Head, r.Specialties, r.Bound, r.Active}
		}
		if *asJSON {
			return writeJSON(stdout, rows)
		}
		var tb clitable.Table
		tb.Row("ID", "NAME", "LEVEL", "STATION", "HEAD", "BOUND")
		for _, r := range rows {
			head, bound := "", "no"
			if r.Head {
				head = "head"
			}
			if r.Bound {
				bound = "yes"
			}
			if !r.Active {
				bound += " (inactive)"
			}
			tb.Row(r.ID, r.Name, r.Level, r.StationName, head, bound)
		}
		return tb.Write(stdout)
	case "record":
		return cmdDeputyRecord(ctx, env, args[1:], stdout)
	case "invite":
		if len(args) != 2 {
			return usageError("deputy invite")
		}
		code, expires, err := env.db.CreateInvite(ctx, args[1], inviteTTL)
		if err != nil {
			return err
		}
		d, _ := env.data.Directory.Deputy(args[1])
		fmt.Fprintf(stdout, "%s\n", code)
		fmt.Fprintf(stdout, "Give this code to %s (%s). They send 「绑定 %s」 to the official account before %s.\n",
			d.Name, args[1], code, expires.In(env.cfg.Location()).Format("2006-01-02 15:04"))
		return nil
	case "unbind":
		if len(args) != 2 {
			return usageError("deputy unbind")
		}
		bound, err := env.db.UnbindDeputy(ctx, args[1], lianxin.AuditEntry{Actor: actor(getenv), Action: lianxin.AuditUnbind, Subject: "deputy:" + args[1]})
		if lianxin.ErrorCode(err) == lianxin.ENOTFOUND {
			return fmt.Errorf("%s", lianxin.ErrorMessage(err))
		} else if err != nil {
			return err
		}
		name := env.deputyName(args[1])
		if !bound {
			fmt.Fprintf(stdout, "%s (%s) is not bound: nothing to undo\n", args[1], name)
			return nil
		}
		fmt.Fprintf(stdout, "%s (%s) unbound: that WeChat no longer acts as the deputy. Give them a new code: lianxin deputy invite %s\n", args[1], name, args[1])
		return nil
	}
	return usageError("deputy")
}

// inviteTTL is how long a binding code works.
const inviteTTL = 24 * time.Hour
