package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/store"
)

// cmdImport loads configs/directory.yaml and categories.yaml into SQLite,
// where serve reads them, and says what changed.
func cmdImport(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("import", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dryRun := fs.Bool("dry-run", false, "only show what would change")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errors.New("usage: lianxin import [--dry-run]")
	}
	cfg, err := configs.Load(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	data, err := loadData(cfg) // refuses invalid files with the line at fault
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DBPath)
	if err != nil {
		return fmt.Errorf("LIANXIN_DB: %w", err)
	}
	defer db.Close()
	changes, err := db.ImportDirectory(ctx, data.directory, data.categories, *dryRun)
	if err != nil {
		return err
	}
	verb := "imported"
	if *dryRun {
		verb = "would change"
	}
	if len(changes) == 0 {
		fmt.Fprintf(stdout, "directory unchanged (%d stations and points, %d deputies, %d departments, %d categories)\n",
			len(data.directory.Stations), len(data.directory.Deputies), len(data.directory.Departments), len(data.categories))
		return nil
	}
	fmt.Fprintf(stdout, "%s %d change(s):\n", verb, len(changes))
	for _, c := range changes {
		fmt.Fprintln(stdout, "  "+c.String())
	}
	if !*dryRun {
		fmt.Fprintf(stdout, "running services pick this up within %s\n", directoryPoll)
	}
	return nil
}

const deputyUsage = `usage:
  lianxin deputy list [--json]
  lianxin deputy invite ID`

// cmdDeputy lists deputies and makes the one-time codes they bind their
// WeChat with.
func cmdDeputy(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(deputyUsage)
	}
	env, err := openOperatorEnv(ctx, getenv)
	if err != nil {
		return err
	}
	defer env.db.Close()
	if v, err := env.db.DirectoryVersion(ctx); err != nil {
		return err
	} else if v == 0 {
		if _, err := env.db.ImportDirectory(ctx, env.data.directory, env.data.categories, false); err != nil {
			return err
		}
	}
	switch args[0] {
	case "list":
		fs := flag.NewFlagSet("deputy list", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		asJSON := fs.Bool("json", false, "print JSON")
		if err := fs.Parse(args[1:]); err != nil {
			return errors.New(deputyUsage)
		}
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
		var tb table
		tb.row("ID", "NAME", "LEVEL", "STATION", "HEAD", "BOUND")
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
			tb.row(r.ID, r.Name, r.Level, r.StationName, head, bound)
		}
		return tb.write(stdout)
	case "invite":
		if len(args) != 2 {
			return errors.New(deputyUsage)
		}
		code, expires, err := env.db.CreateInvite(ctx, args[1], inviteTTL)
		if err != nil {
			return err
		}
		d, _ := env.data.directory.Deputy(args[1])
		fmt.Fprintf(stdout, "%s\n", code)
		fmt.Fprintf(stdout, "Give this code to %s (%s). They send 「绑定 %s」 to the official account before %s.\n",
			d.Name, args[1], code, expires.In(env.cfg.Location()).Format("2006-01-02 15:04"))
		return nil
	}
	return errors.New(deputyUsage)
}

// inviteTTL is how long a binding code works.
const inviteTTL = 24 * time.Hour
