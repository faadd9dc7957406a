package main

import (
	"context"
	"fmt"
	"io"

	"github.com/lianxin/lianxin/configs"
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
		return nil
	}
	fmt.Fprintf(stdout, "%s %d change(s):\n", verb, len(changes))
	for _, c := range changes {
		fmt.Fprintln(stdout, "  "+c.String())
	}
	if !*dryRun {
		fmt.Fprintf(stdout, "running services pick this up within %s\n", service.DirectoryPoll)
	}
	return nil
}
