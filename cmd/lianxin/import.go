package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/flows"
	"github.com/lianxin/lianxin/internal/service"
	"github.com/lianxin/lianxin/store"
)

// cmdImport loads configs/directory.yaml and categories.yaml into SQLite,
// where serve reads them, and says what changed.
func cmdImport(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var o options
	if rest, err := parse("import", &o, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usageError("import")
	}
	dryRun := &o.dryRun
	cfg, err := configs.Load(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	data, err := service.LoadData(cfg) // refuses invalid files with the line at fault
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, cfg.DBPath)
	if err != nil {
		return fmt.Errorf("LIANXIN_DB: %w", err)
	}
	defer db.Close()
	changes, err := db.ImportDirectory(ctx, data.Directory, data.Categories, *dryRun)
	if err != nil {
		return err
	}
	verb := "imported"
	if *dryRun {
		verb = "would change"
	}
	if len(changes) == 0 {
		fmt.Fprintf(stdout, "directory unchanged (%d stations and points, %d deputies, %d departments, %d categories)\n",
			len(data.Directory.Stations), len(data.Directory.Deputies), len(data.Directory.Departments), len(data.Categories))
	} else {
		fmt.Fprintf(stdout, "%s %d change(s):\n", verb, len(changes))
		for _, c := range changes {
			fmt.Fprintln(stdout, "  "+c.String())
		}
	}
	// Deputies who left take nothing with them: their open cases go to
	// others, routed by the new directory (also those of an earlier import
	// that stopped half-way).
	if err := reassignLeavers(ctx, cfg, data, db, *dryRun, stdout); err != nil {
		return err
	}
	if !*dryRun && len(changes) > 0 {
		fmt.Fprintf(stdout, "running services pick this up within %s\n", service.DirectoryPoll)
	}
	return nil
}

// reassignLeavers moves (or, dry, says where it would move) the open cases
// of deputies not in data's directory, and warns about each.
func reassignLeavers(ctx context.Context, cfg configs.Config, data *service.Data, db *store.DB, dryRun bool, stdout io.Writer) error {
	recs, err := db.DeputyRecords(ctx)
	if err != nil {
		return err
	}
	names := map[string]string{}
	for _, r := range recs {
		names[r.ID] = r.Name
	}
	eng := flows.NewEngine(service.EngineConfig(cfg, data, db), slog.New(slog.DiscardHandler))
	moves, err := eng.ReassignLeavers(ctx, time.Now(), func(id string) string {
		if n := names[id]; n != "" {
			return n
		}
		return id
	}, dryRun)
	if len(moves) > 0 {
		verb := "were given to others, as routing decides"
		if dryRun {
			verb = "would go to others (the dry run moves nothing)"
		}
		fmt.Fprintf(stdout, "warning: %d open case(s) of deputies no longer in the directory %s:\n", len(moves), verb)
		for _, m := range moves {
			to := "the district's staff queue"
			if m.To != "" {
				d, _ := data.Directory.Deputy(m.To)
				to = fmt.Sprintf("%s (%s): %s", m.To, d.Name, m.Why)
			} else if st, ok := data.Directory.StationOf(m.Case.StationID); ok {
				to = "the staff queue of " + st.Name
			}
			fmt.Fprintf(stdout, "  %s of %s (%s) → %s\n", m.Case.Number, m.From, names[m.From], to)
		}
	}
	return err
}
