package main

import (
	"context"
	"fmt"
	"io"
)

// cmdReport writes the monthly report.
func cmdReport(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "monthly" {
		return usageError("report")
	}
	var o options
	if rest, err := parse("report monthly", &o, args[1:]); err != nil {
		return err
	} else if len(rest) > 0 || o.month == "" {
		return usageError("report monthly")
	}
	month, station, format, out, recompute := &o.month, &o.station, &o.format, &o.out, &o.recompute
	if *format != "html" && *format != "pdf" {
		return fmt.Errorf("--format must be html or pdf\n%v", usageError("report monthly"))
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
