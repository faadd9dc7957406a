package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/clitable"
	"github.com/lianxin/lianxin/report"
)

// cmdStats prints the numbers of a month (or of the whole register).
func cmdStats(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	var o options
	if rest, err := parse("stats", &o, args); err != nil {
		return err
	} else if len(rest) > 0 {
		return usageError("stats")
	}
	ff, asJSON, html := o.ff, &o.json, &o.html
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
	s, err := rep.StatsFor(ctx, f, 12)
	if err != nil {
		return err
	}
	if ff.station != "" {
		st, _ := dir.Station(ff.station)
		s.StationID, s.StationName = st.ID, st.Name
	}
	switch {
	case *asJSON:
		return writeJSON(stdout, s)
	case *html != "":
		if err := writeFile(*html, stdout, func(w io.Writer) error { return rep.StatsHTML(w, s, nil) }); err != nil || *html == "-" {
			return err
		}
		fmt.Fprintf(stdout, "written to %s\n", *html)
		return nil
	}
	return printStats(stdout, s, env.cfg.Location())
}

func printStats(w io.Writer, s *report.Stats, loc *time.Location) error {
	from := "the beginning"
	if !s.From.IsZero() {
		from = s.From.In(loc).Format("2006-01-02 15:04")
	}
	scope := "all stations"
	if s.StationName != "" {
		scope = s.StationName + " (with its points)"
	}
	fmt.Fprintf(w, "%s, %s to %s (%s), as things stood at %s\n\n", scope, from, s.At.In(loc).Format("2006-01-02 15:04"),
		loc, s.At.In(loc).Format("2006-01-02 15:04"))
	t := &s.Total
	n := func(m lianxin.Measure) int { return t.N(m) }
	fmt.Fprintf(w, "received %d, handled %d (carried over %d, reopened %d), accepted %d, resolved %d, open %d, overdue %d\n",
		n(lianxin.MeasureReceived), n(lianxin.MeasureHandled), n(lianxin.MeasureCarried), n(lianxin.MeasureReopened),
		n(lianxin.MeasureAccepted), n(lianxin.MeasureResolved), n(lianxin.MeasureOpen), n(lianxin.MeasureOverdue))
	fmt.Fprintf(w, "rated %d: satisfied %d, fairly satisfied %d, unsatisfied %d\n\n",
		n(lianxin.MeasureRated), n(lianxin.MeasureSatisfied), n(lianxin.MeasureFairly), n(lianxin.MeasureUnsatisfied))
	var tb clitable.Table
	tb.Row("RATE", "VALUE", "", "DEFINITION")
	r := t.Rates
	for _, row := range []struct {
		name string
		r    report.Rate
		def  string
	}{
		{"响应率 response", r.Response, "accepted within the accept deadline / whose response fell due"},
		{"解决率 resolved", r.Resolve, "resolved at the period's end / handled"},
		{"按期解决率 on time", r.ResolveOnTime, "resolved within the deadline / handled"},
		{"满意率 satisfied", r.Satisfied, "满意 / rated (last rating in the period)"},
		{"满意+基本满意", r.SatisfiedOrFairly, "(满意 + 基本满意) / rated"},
		{"综合满意率 weighted", r.Weighted, fmt.Sprintf("(%g×满意 + %g×基本满意 + %g×不满意) / rated", s.Weights.Satisfied, s.Weights.FairlySatisfied, s.Weights.Unsatisfied)},
		{"参评率 participation", r.Participation, "rated since resolved / resolved"},
	} {
		tb.Row(row.name, pctText(row.r), fraction(row.r), row.def)
	}
	if err := tb.Write(w); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ntime to accept: %d cases, mean %.1f h, p90 %.1f h; time to resolve: %d cases, mean %.1f h, p90 %.1f h\n",
		t.Accept.N, t.Accept.Avg, t.Accept.P90, t.Resolve.N, t.Resolve.Avg, t.Resolve.P90)
	for _, part := range []struct {
		title string
		rows  []report.Row
	}{{"BY CATEGORY", s.ByCategory}, {"BY STATION (points rolled up)", s.ByStation}, {"BY DEPUTY (at the period's end)", s.ByDeputy}, {"BY SOURCE", s.BySource}} {
		fmt.Fprintf(w, "\n%s\n", part.title)
		var tb clitable.Table
		tb.Row("", "RECEIVED", "HANDLED", "RESOLVED", "OPEN", "OVERDUE", "RESPONSE", "RESOLVED%", "SATISFIED", "WEIGHTED")
		for _, row := range part.rows {
			tb.Row(row.Name, itoa(row.N(lianxin.MeasureReceived)), itoa(row.N(lianxin.MeasureHandled)), itoa(row.N(lianxin.MeasureResolved)),
				itoa(row.N(lianxin.MeasureOpen)), itoa(row.N(lianxin.MeasureOverdue)), pctText(row.Rates.Response), pctText(row.Rates.Resolve),
				pctText(row.Rates.Satisfied), pctText(row.Rates.Weighted))
		}
		if err := tb.Write(w); err != nil {
			return err
		}
	}
	if len(s.Trend) > 0 {
		fmt.Fprintf(w, "\nBY MONTH\n")
		var tb clitable.Table
		tb.Row("MONTH", "RECEIVED", "HANDLED", "RESOLVED", "OVERDUE", "RATED", "SATISFIED")
		for _, p := range s.Trend {
			v := func(m lianxin.Measure) string { return itoa(p.Figures[m].Value) }
			tb.Row(p.Month, v(lianxin.MeasureReceived), v(lianxin.MeasureHandled), v(lianxin.MeasureResolved), v(lianxin.MeasureOverdue),
				v(lianxin.MeasureRated), v(lianxin.MeasureSatisfied))
		}
		if err := tb.Write(w); err != nil {
			return err
		}
	}
	fmt.Fprintln(w, "\n(--json gives every figure with the filter that lists its cases: lianxin cases export --measure M ...)")
	return nil
}

func itoa(n int) string { return fmt.Sprint(n) }

func pctText(r report.Rate) string {
	if !r.OK {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", r.Value*100)
}

func fraction(r report.Rate) string {
	if !r.OK {
		return ""
	}
	return fmt.Sprintf("%g/%d", r.Num, r.Den)
}

// renderTo writes an HTML document, or the PDF Chromium prints of it.
func renderTo(ctx context.Context, path string, stdout io.Writer, format string, html func(io.Writer) error) error {
	switch format {
	case "html":
		return writeFile(path, stdout, html)
	case "pdf":
		var buf bytes.Buffer
		if err := html(&buf); err != nil {
			return err
		}
		pdf, err := report.PDF(ctx, buf.Bytes())
		if err != nil {
			return err
		}
		return writeFile(path, stdout, func(w io.Writer) error { _, err := w.Write(pdf); return err })
	}
	return fmt.Errorf("--format %q: html or pdf", format)
}
