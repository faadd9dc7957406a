package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/report"
)

// The register's commands: `cases export`, `cases erase`, `cases typical`;
// the reporter `stats`, `report monthly` and `deputy record` share.

// reporter is the report package over this database, with the directory
// the service uses (the imported one).
func (e *operatorEnv) reporter(ctx context.Context) (*report.Reporter, error) {
	dir, cats, err := e.directory(ctx)
	if err != nil {
		return nil, err
	}
	w := e.cfg.Report.SatisfactionWeights
	return report.New(report.Config{Register: e.db, Snapshots: e.db, Texts: e.data.Texts, Directory: dir, Categories: cats,
		Location: e.cfg.Location(), Now: e.now,
		Weights: report.Weights{Satisfied: w.Satisfied, FairlySatisfied: w.FairlySatisfied, Unsatisfied: w.Unsatisfied}}), nil
}

// directory is the imported directory (importing the files on a fresh
// database, as serve does).
func (e *operatorEnv) directory(ctx context.Context) (*lianxin.Directory, lianxin.Categories, error) {
	v, err := e.db.DirectoryVersion(ctx)
	if err != nil {
		return nil, nil, err
	}
	if v == 0 {
		if _, err := e.db.ImportDirectory(ctx, e.data.Directory, e.data.Categories, false); err != nil {
			return nil, nil, err
		}
	}
	return e.db.LoadDirectory(ctx)
}

// actor names the operator in audit entries: the login behind sudo, or the user.
func actor(getenv func(string) string) string {
	for _, k := range []string{"SUDO_USER", "USER", "LOGNAME"} {
		if v := getenv(k); v != "" {
			return "cli:" + v
		}
	}
	return "cli:operator"
}

// filterFlags are the case list's filters, as every register command takes them.
type filterFlags struct {
	month, station, status, category, deputy, measure string
	typical                                           bool
}

func (ff *filterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&ff.month, "month", "", "cases registered in this month (`YYYY-MM`, the stations' time zone); with --measure, the month the figure counts")
	fs.StringVar(&ff.station, "station", "", "cases of this station and its points (or of this point): its `ID`")
	fs.StringVar(&ff.status, "status", "", "only cases with this `STATUS` now: registered, accepted, forwarded, reopened, resolved or cancelled")
	fs.StringVar(&ff.category, "category", "", "only cases of this category (its `KEY`)")
	fs.StringVar(&ff.deputy, "deputy", "", "only cases this deputy (`ID`) had at the end of the period ('-' for nobody)")
	fs.StringVar(&ff.measure, "measure", "", "only the cases a `FIGURE` of lianxin stats counts (received, handled, resolved, overdue, ...)")
	fs.BoolVar(&ff.typical, "typical", false, "only cases marked typical")
}

// filter checks the flags against the directory and makes the filter.
func (ff *filterFlags) filter(e *operatorEnv, dir *lianxin.Directory, cats lianxin.Categories) (lianxin.CaseFilter, error) {
	var f lianxin.CaseFilter
	if ff.month != "" {
		from, to, err := lianxin.MonthRange(ff.month, e.cfg.Location())
		if err != nil {
			return f, fmt.Errorf("--month: %v", err)
		}
		f.From, f.To = from, to
	}
	if ff.station != "" {
		if _, ok := dir.Station(ff.station); !ok {
			var ids []string
			for _, s := range dir.Stations {
				ids = append(ids, s.ID)
			}
			return f, fmt.Errorf("--station: no station or point %q; known: %s", ff.station, strings.Join(ids, ", "))
		}
		f.Units = dir.Units(ff.station)
	}
	if ff.status != "" {
		st := lianxin.Status(ff.status)
		all := append(slices.Clone(lianxin.OpenStatuses), lianxin.StatusResolved, lianxin.StatusCancelled)
		if !slices.Contains(all, st) {
			return f, fmt.Errorf("--status: %q is not one of %v", ff.status, all)
		}
		f.Status = []lianxin.Status{st}
	}
	if ff.category != "" {
		if _, ok := cats.ByKey(ff.category); !ok {
			return f, fmt.Errorf("--category: no category %q; known: %s", ff.category, strings.Join(cats.Keys(), ", "))
		}
		f.Category = ff.category
	}
	if ff.deputy != "" {
		if _, ok := dir.Deputy(ff.deputy); !ok && ff.deputy != lianxin.NoDeputy {
			return f, fmt.Errorf("--deputy: no deputy %q (lianxin deputy list)", ff.deputy)
		}
		f.Deputy = ff.deputy
	}
	if ff.measure != "" {
		m := lianxin.Measure(ff.measure)
		if !m.Valid() {
			return f, fmt.Errorf("--measure: %q is not one of %v", ff.measure, lianxin.Measures)
		}
		f.Measure = m
	}
	f.Typical = ff.typical
	return f, nil
}

// cmdCasesExport writes the register of the filtered cases to a file.
func cmdCasesExport(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var o options
	if rest, err := parse("cases export", &o, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return fmt.Errorf("unexpected %q\n%v", rest[0], usageError("cases export"))
	}
	ff, format, out, unmasked := o.ff, &o.format, &o.out, &o.unmasked
	if *format == "" && *out != "" {
		*format = strings.TrimPrefix(filepath.Ext(*out), ".")
	}
	if *out == "" {
		return fmt.Errorf("-o FILE is required\n%v", usageError("cases export"))
	}
	if *format != "xlsx" && *format != "csv" {
		return fmt.Errorf("--format must be xlsx or csv\n%v", usageError("cases export"))
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
	dir, cats, err := env.directory(ctx)
	if err != nil {
		return err
	}
	f, err := ff.filter(env, dir, cats)
	if err != nil {
		return err
	}
	opts := report.ExportOptions{Unmasked: *unmasked, Actor: actor(getenv), Audit: env.db.Audit}
	n := 0
	err = writeFile(*out, stdout, func(w io.Writer) error {
		var err error
		if *format == "xlsx" {
			n, err = rep.WriteXLSX(ctx, w, f, opts)
		} else {
			n, err = rep.WriteCSV(ctx, w, f, opts)
		}
		return err
	})
	if err != nil {
		return err
	}
	if *out != "-" {
		fmt.Fprintf(stdout, "%d cases written to %s\n", n, *out)
	}
	return nil
}

// writeFile writes a file whole or not at all: into a temporary file beside
// it, renamed over it once complete. "-" is standard output (the command's
// own, passed in so tests and pipes get it).
func writeFile(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "-" {
		return write(stdout)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// Readable by the group (the office's clerks), not by everyone: a
	// register holds residents' contact details.
	if err := os.Chmod(tmp.Name(), 0o640); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// cmdCasesErase erases a resident's contact details from a case at their request.
func cmdCasesErase(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var o options
	rest, err := parse("cases erase", &o, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("cases erase")
	}
	reason := &o.reason
	env, err := openOperatorEnv(ctx, getenv)
	if err != nil {
		return err
	}
	defer env.db.Close()
	c, err := env.db.EraseContact(ctx, rest[0], lianxin.AuditEntry{Actor: actor(getenv), Detail: *reason})
	if lianxin.ErrorCode(err) == lianxin.ENOTFOUND {
		return fmt.Errorf("no case %s", rest[0])
	} else if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: the resident's phone number and WeChat identity are erased; the case and its numbers stay.\n", c.Number)
	if c.Status.Open() {
		fmt.Fprintf(stdout, "The case is still open (%s): the resident can no longer be told how it goes.\n", c.Status)
	}
	return nil
}

// cmdCasesTypical marks a case as a typical case for the monthly report.
func cmdCasesTypical(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var o options
	rest, err := parse("cases typical", &o, args)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return usageError("cases typical")
	}
	note, off := &o.note, &o.off
	env, err := openOperatorEnv(ctx, getenv)
	if err != nil {
		return err
	}
	defer env.db.Close()
	c, err := env.db.SetTypical(ctx, rest[0], !*off, *note, lianxin.AuditEntry{Actor: actor(getenv)})
	if lianxin.ErrorCode(err) == lianxin.ENOTFOUND {
		return fmt.Errorf("no case %s", rest[0])
	} else if err != nil {
		return err
	}
	if *off {
		fmt.Fprintf(stdout, "%s is no longer a typical case.\n", c.Number)
	} else {
		fmt.Fprintf(stdout, "%s is a typical case: it appears in the monthly report of every month it was handled in.\n", c.Number)
	}
	return nil
}

// defaultOut is a report's file name when -o is not given.
func defaultOut(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept[:len(kept)-1], "-") + "." + kept[len(kept)-1]
}

// yearNow is the current year in the stations' zone.
func (e *operatorEnv) yearNow() int { return e.now().In(e.cfg.Location()).Year() }
