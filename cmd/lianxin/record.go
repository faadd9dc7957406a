package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
)

const recordUsage = `usage:
  lianxin deputy record ID [--year YYYY] [--format html|xlsx|pdf] [-o FILE]
      the deputy's record of a year (履职档案), from the timeline`

// cmdDeputyRecord writes a deputy's record of a year.
func cmdDeputyRecord(ctx context.Context, env *operatorEnv, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("deputy record", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	year := fs.Int("year", 0, "the year (default: this year)")
	format := fs.String("format", "html", "html, xlsx or pdf (pdf needs Chromium)")
	out := fs.String("o", "", "the file to write (default record-ID-YEAR.FORMAT)")
	rest, err := parseWithPositional(fs, args, recordUsage)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New(recordUsage)
	}
	if *year == 0 {
		*year = env.yearNow()
	}
	rep, err := env.reporter(ctx)
	if err != nil {
		return err
	}
	rec, err := rep.Record(ctx, rest[0], *year)
	if err != nil {
		return err
	}
	path := *out
	if path == "" {
		path = defaultOut("record", rest[0], fmt.Sprint(*year), *format)
	}
	switch *format {
	case "xlsx":
		err = writeFile(path, stdout, func(w io.Writer) error { return rep.WriteRecordXLSX(w, rec) })
	case "html", "pdf":
		err = renderTo(ctx, path, stdout, *format, func(w io.Writer) error { return rep.WriteRecordHTML(w, rec) })
	default:
		return fmt.Errorf("--format must be html, xlsx or pdf\n%s", recordUsage)
	}
	if err != nil || path == "-" {
		return err
	}
	fmt.Fprintf(stdout, "%s written: %s, %d cases taken, %d resolved\n", path, rec.Deputy.Name, rec.Taken, rec.Resolved)
	return nil
}
