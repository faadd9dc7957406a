package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/lianxin/lianxin/internal/registertest"
	"github.com/lianxin/lianxin/store"
)

const registerDemoUsage = `usage:
  lianxin-dev register-demo [-db FILE] [-cases N]
      a demo register for trying the register's commands: October 2026 as the
      tests check it by hand, plus N cases in bulk from November 2025 to
      November 2026 (default 1500); refuses a database that has cases`

// cmdRegisterDemo fills a fresh database with a demo register.
func cmdRegisterDemo(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("register-demo", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	path := fs.String("db", "./data/register-demo.db", "the SQLite file to create")
	n := fs.Int("cases", 1500, "cases to add in bulk")
	if err := fs.Parse(args); err != nil || fs.NArg() > 0 {
		return errors.New(registerDemoUsage)
	}
	if _, err := os.Stat(*path); err == nil {
		return fmt.Errorf("%s exists: the demo register goes into a fresh database", *path)
	}
	db, err := store.Open(ctx, *path)
	if err != nil {
		return err
	}
	defer db.Close()
	dir, cats, err := registertest.Data()
	if err != nil {
		return err
	}
	if _, err := db.ImportDirectory(ctx, dir, cats, false); err != nil {
		return err
	}
	if _, err := registertest.October(ctx, db); err != nil {
		return err
	}
	written, err := registertest.Bulk(ctx, db, dir, cats, registertest.BulkOptions{Cases: *n,
		From: registertest.At(11, 1, 0, 0).AddDate(-1, 0, 0), To: registertest.At(11, 20, 0, 0),
		Now: registertest.At(11, 20, 0, 0), Seed: 13})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: the October 2026 register and %d cases more (Nov 2025 – Nov 2026), as of %s.\n",
		*path, written, registertest.At(11, 20, 0, 0).Format(time.DateTime))
	fmt.Fprintf(stdout, "Try: LIANXIN_DB=%s go run ./cmd/lianxin stats --month 2026-10\n", *path)
	return nil
}
