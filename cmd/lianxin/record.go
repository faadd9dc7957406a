package main

import (
	"context"
	"fmt"
	"io"
)

// cmdDeputyRecord writes a deputy's record of a year.
func cmdDeputyRecord(ctx context.Context, env *operatorEnv, args []string, stdout io.Writer) error {
	var o options
	rest, err := parse("deputy record", &o, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("deputy record")
	}
	year, format, out := &o.year, &o.format, &o.out
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
		return fmt.Errorf("--format must be html, xlsx or pdf\n%v", usageError("deputy record"))
	}
	if err != nil || path == "-" {
		return err
	}
	fmt.Fprintf(stdout, "%s written: %s, %d cases taken, %d resolved\n", path, rec.Deputy.Name, rec.Taken, rec.Resolved)
	return nil
}
