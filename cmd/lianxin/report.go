package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

const reportUsage = `usage:
  lianxin report monthly --month YYYY-MM [--station ID] [--format html|pdf] [-o FILE] [--recompute]
      a station's (or the district's) monthly report; a finished month's
      figures are kept as first generated (--recompute replaces them, audited)`

// cmdReport writes the monthly report.
func cmdReport(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "monthly" {
		return errors.New(reportUsage)
	}
	fs := flag.NewFlagSet("report monthly", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	month := fs.String("month", "", "the month, YYYY-MM")
	station := fs.String("station", "", "a station (with its points) or a point; default: the whole district")
	format := fs.String("format", "html", "html or pdf (pdf needs Chromium)")
	out := fs.String("o", "", "the file to write (default report-MONTH[-STATION].FORMAT)")
	recompute := fs.Bool("recompute", false, "compute a finished month's figures afresh and keep those (audited)")
	if err := fs.Parse(args[1:]); err != nil || fs.NArg() > 0 || *month == "" {
		return errors.New(reportUsage)
	}
	if *format != "html" && *format != "pdf" {
		return fmt.Errorf("--format must be html or pdf\n%s", reportUsage)
	}
	env, err := openOperatorEnv(ctx, getenv)
	if err != nil {
		return err
	}
	defer env.db.Close()
	rep, err := env.reporter(ctx)
	if err != nil {
		return err
	}
	m, err := rep.Monthly(ctx, *month, *station, *recompute, actor(getenv))
	if err != nil {
		return err
	}
	path := *out
	if path == "" {
		path = defaultOut("report", m.Month, *station, *format)
	}
	if err := renderTo(ctx, path, stdout, *format, func(w io.Writer) error { return rep.WriteMonthlyHTML(w, m) }); err != nil {
		return err
	}
	if path == "-" {
		return nil
	}
	how := "computed now (the month is not over)"
	if m.Frozen {
		how = "as first generated " + m.GeneratedAt.In(env.cfg.Location()).Format("2006-01-02 15:04")
	}
	fmt.Fprintf(stdout, "%s written: figures %s\n", path, how)
	return nil
}
