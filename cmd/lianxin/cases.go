package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/clitable"
)

const casesUsage = `usage:
  lianxin cases list [--json] [--status S] [--station ID] [--limit N]
  lianxin cases show NUMBER [--json]
  lianxin cases export --format xlsx|csv [filters] -o FILE
  lianxin cases erase NUMBER [--reason TEXT]
  lianxin cases typical NUMBER [--note TEXT] [--off]`

// caseJSON is a case as the CLI prints it: names resolved, contact masked.
type caseJSON struct {
	*lianxin.Case
	CategoryName string `json:"category_name"`
	StationName  string `json:"station_name"`
	AssigneeName string `json:"assignee_name,omitempty"`
	Contact      string `json:"contact"`
	// SLA is green, yellow (临期) or red (超期) for an open case.
	SLA string `json:"sla,omitempty"`
}

func (e *operatorEnv) present(c *lianxin.Case) caseJSON {
	out := caseJSON{Case: c, CategoryName: e.categoryName(c.CategoryKey), StationName: e.stationName(c.StationID), Contact: lianxin.MaskPhone(c.Phone),
		SLA: string(c.SLA(e.now(), e.cfg.Supervision.RemindAt, e.category(c.CategoryKey)))}
	if c.AssigneeID != "" {
		out.AssigneeName = e.deputyName(c.AssigneeID)
	}
	return out
}

func cmdCases(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return errors.New(casesUsage)
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "export":
		return cmdCasesExport(ctx, args, getenv, stdout)
	case "erase":
		return cmdCasesErase(ctx, args, getenv, stdout)
	case "typical":
		return cmdCasesTypical(ctx, args, getenv, stdout)
	}
	fs := flag.NewFlagSet("cases "+sub, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	asJSON := fs.Bool("json", false, "print JSON")
	status := fs.String("status", "", "only cases with this status")
	station := fs.String("station", "", "only cases of this station or point")
	limit := fs.Int("limit", 0, "at most this many (newest first)")
	var positional []string
	// Accept flags before or after the case number.
	for len(args) > 0 {
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%v\n%s", err, casesUsage)
		}
		args = fs.Args()
		if len(args) > 0 {
			positional = append(positional, args[0])
			args = args[1:]
		}
	}
	env, err := openOperatorEnv(ctx, getenv)
	if err != nil {
		return err
	}
	defer env.db.Close()
	switch sub {
	case "list":
		if len(positional) > 0 {
			return errors.New(casesUsage)
		}
		f := lianxin.CaseFilter{StationID: *station, Limit: *limit}
		if *status != "" {
			f.Status = []lianxin.Status{lianxin.Status(*status)}
		}
		cases, err := env.db.Cases(ctx, f)
		if err != nil {
			return err
		}
		if *asJSON {
			out := make([]caseJSON, len(cases))
			for i := range cases {
				out[i] = env.present(&cases[i])
			}
			return writeJSON(stdout, out)
		}
		return env.printList(stdout, cases)
	case "show":
		if len(positional) != 1 {
			return errors.New(casesUsage)
		}
		c, err := env.db.Case(ctx, positional[0])
		if lianxin.ErrorCode(err) == lianxin.ENOTFOUND {
			return fmt.Errorf("no case %s", positional[0])
		} else if err != nil {
			return err
		}
		if *asJSON {
			return writeJSON(stdout, env.present(c))
		}
		return env.printCase(stdout, c)
	}
	return errors.New(casesUsage)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

func (e *operatorEnv) local(t time.Time) string {
	return t.In(e.cfg.Location()).Format("2006-01-02 15:04")
}

func (e *operatorEnv) printList(w io.Writer, cases []lianxin.Case) error {
	if len(cases) == 0 {
		fmt.Fprintln(w, "no cases")
		return nil
	}
	var tb clitable.Table
	tb.Row("NUMBER", "STATUS", "SLA", "CATEGORY", "STATION", "ASSIGNEE", "CREATED", "DESCRIPTION")
	for i := range cases {
		c := &cases[i]
		assignee := "-"
		if c.AssigneeID != "" {
			assignee = e.deputyName(c.AssigneeID)
		}
		station := "-"
		if c.StationID != "" {
			station = e.stationName(c.StationID)
		}
		sla := string(c.SLA(e.now(), e.cfg.Supervision.RemindAt, e.category(c.CategoryKey)))
		if sla == "" {
			sla = "-"
		}
		tb.Row(c.Number, string(c.Status), sla, e.categoryName(c.CategoryKey), station, assignee, e.local(c.CreatedAt), oneLine(c.Description, 24))
	}
	return tb.Write(w)
}

func oneLine(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}

func (e *operatorEnv) printCase(w io.Writer, c *lianxin.Case) error {
	p := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-12s %s\n", k+":", v)
		}
	}
	p("Number", c.Number)
	p("Status", string(c.Status))
	p("SLA", string(c.SLA(e.now(), e.cfg.Supervision.RemindAt, e.category(c.CategoryKey))))
	p("Category", e.categoryName(c.CategoryKey)+" ("+c.CategoryKey+")")
	if c.StationID != "" {
		p("Station", e.stationName(c.StationID)+" ("+c.StationID+")")
	} else {
		p("Station", "(district queue)")
	}
	if c.AssigneeID != "" {
		p("Assignee", e.deputyName(c.AssigneeID)+" ("+c.AssigneeID+")")
	}
	p("Location", c.Location.String())
	if c.Location.HasPoint() {
		p("Coordinates", fmt.Sprintf("%.5f, %.5f", c.Location.Lat, c.Location.Lng))
	}
	p("Contact", lianxin.MaskPhone(c.Phone))
	if c.NeedsStaff {
		p("Flags", "needs staff (人工)")
	}
	p("Satisfaction", c.Satisfaction)
	p("Created", e.local(c.CreatedAt))
	if c.AcceptDue != nil {
		p("Accept by", e.local(*c.AcceptDue))
	}
	if c.ResolveDue != nil {
		p("Resolve by", e.local(*c.ResolveDue))
	}
	fmt.Fprintf(w, "Description:\n  %s\n", strings.ReplaceAll(c.Description, "\n", "\n  "))
	fmt.Fprintf(w, "Attachments (%d):\n", len(c.Attachments))
	for _, a := range c.Attachments {
		line := fmt.Sprintf("  #%d %s %s", a.ID, a.Kind, a.Status)
		if a.Path != "" {
			line += " " + a.Path
		}
		if a.Error != "" {
			line += " (" + a.Error + ")"
		}
		fmt.Fprintln(w, line)
	}
	fmt.Fprintln(w, "Timeline:")
	for _, ev := range c.Events {
		line := fmt.Sprintf("  %s %-16s %s", e.local(ev.At), ev.Type, ev.Actor)
		if ev.Text != "" {
			line += "  " + ev.Text
		}
		fmt.Fprintln(w, line)
	}
	return nil
}
