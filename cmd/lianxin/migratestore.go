package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/lianxin/lianxin/store"
)

// cmdMigrateStore moves a district's register from its SQLite file to
// PostgreSQL (issue 16): every table, in one transaction, then each table's
// rows counted and checksummed on both sides and printed. Stop serve first:
// what is written to the SQLite file during the copy is not in it.
func cmdMigrateStore(ctx context.Context, args []string, stdout io.Writer) error {
	var o options
	if rest, err := parse("migrate-store", &o, args); err != nil {
		return err
	} else if len(rest) > 0 || o.from == "" || o.to == "" {
		return usageError("migrate-store")
	}
	from := strings.TrimPrefix(o.from, "sqlite://")
	if store.IsPostgres(o.from) || from == "" {
		return fmt.Errorf("--from must be a SQLite file (sqlite://PATH), not %s", redact(o.from))
	}
	if !store.IsPostgres(o.to) {
		return fmt.Errorf("--to must be a postgres:// URL, not %s", redact(o.to))
	}
	if _, err := os.Stat(from); err != nil {
		return fmt.Errorf("--from: %w", err)
	}
	src, err := store.Open(ctx, from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := store.Open(ctx, o.to)
	if err != nil {
		return err
	}
	defer dst.Close()
	fmt.Fprintf(stdout, "copying %s to %s\n", from, dst.Path())
	start := time.Now()
	tables, err := src.CopyTo(ctx, dst, o.force, nil)
	if len(tables) > 0 {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "table\tSQLite rows\tPostgreSQL rows\tchecksum (SQLite)\tchecksum (PostgreSQL)\t")
		for _, t := range tables {
			mark := "ok"
			if !t.Matches {
				mark = "DIFFERS"
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", t.Table, t.SourceRows, t.Rows, short(t.SourceSum), short(t.Sum), mark)
		}
		tw.Flush()
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "ok: %d tables copied and checked in %s; point LIANXIN_DB at the PostgreSQL URL and start serve\n",
		len(tables), time.Since(start).Round(time.Millisecond))
	return nil
}

func short(sum string) string {
	if len(sum) > 16 {
		return sum[:16]
	}
	return sum
}

// redact hides a URL's password (an operator's command line is echoed in
// errors).
func redact(s string) string {
	if i := strings.Index(s, "://"); i >= 0 {
		if at := strings.LastIndex(s, "@"); at > i {
			if colon := strings.Index(s[i+3:at], ":"); colon >= 0 {
				return s[:i+3+colon] + ":xxxxx" + s[at:]
			}
		}
	}
	return s
}
