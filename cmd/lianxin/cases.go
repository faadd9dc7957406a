package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/clitable"
)

// caseJSON is a case as the CLI prints it: names resolved, contact masked.
type caseJSON struct {
	*lianxin.Case
	StatusName   string `json:"status_name"` // as staff say it: 已受理
	CategoryName string `json:"category_name"`
	StationName  string `json:"station_name"`
	AssigneeName string `json:"assignee_name,omitempty"`
	Contact      string `json:"contact"`
	// SLA is green, yellow (临期) or red (超期) for an open case.
	SLA string `json:"sla,omitempty"`
}

func (e *operatorEnv) present(c *lianxin.Case) caseJSON {
	out := caseJSON{Case: c, StatusName: e.statusName(c.Status), CategoryName: e.categoryName(c.CategoryKey), StationName: e.stationName(c.StationID), Contact: lianxin.MaskPhone(c.Phone),
		SLA: string(c.SLA(e.now(), e.cfg.Supervision.RemindAt, e.category(c.CategoryKey)))}
	if c.AssigneeID != "" {
		out.AssigneeName = e.deputyName(c.AssigneeID)
	}
	return out
}

func cmdCases(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) == 0 {
		return usageError("cases")
	}
	switch args[0] {
	case "export":
		return cmdCasesExport(ctx, args[1:], getenv, stdout)
	case "erase":
		return cmdCasesErase(ctx, args[1:], getenv, stdout)
	case "typical":
		return cmdCasesTypical(ctx, args[1:], getenv, stdout)
	}
	sub := "cases " + args[0]
	if !slices.ContainsFunc(commands, func(c command) bool { return c.name == sub }) {
		return usageError("cases")
	}
	var o options
	positional, err := parse(sub, &o, args[1:])
	if err != nil {
		return err
	}
	env, err := openOperatorEnv(ctx, getenv)
	if err != nil {
		return err
	}
	defer env.db.Close()
	switch sub {
	case "cases list":
		if len(positional) > 0 {
			return usageError(sub)
		}
		f := lianxin.CaseFilter{Limit: o.limit}
		if o.status != "" {
			if f.Status, err = env.statuses(o.status); err != nil {
				return err
			}
		}
		if o.station != "" {
			if f.Units, err = env.units(o.station); err != nil {
				return err
			}
		}
		var cases []lianxin.Case
		if o.queue {
			cases, err = env.staffQueue(ctx, f)
		} else {
			cases, err = env.db.Cases(ctx, f)
		}
		if err != nil {
			return err
		}
		if o.json {
			out := make([]caseJSON, len(cases))
			for i := range cases {
				out[i] = env.present(&cases[i])
			}
			return writeJSON(stdout, out)
		}
		return env.printList(stdout, cases)
	case "cases show":
		if len(positional) != 1 {
			return usageError(sub)
		}
		c, err := env.findCase(ctx, positional[0])
		if err != nil {
			return err
		}
		if o.json {
			return writeJSON(stdout, env.present(c))
		}
		return env.printCase(stdout, c)
	case "cases assign", "cases reply":
		if len(positional) < 2 || (sub == "cases assign" && len(positional) != 2) {
			return usageError(sub)
		}
		c, err := env.findCase(ctx, positional[0])
		if err != nil {
			return err
		}
		eng, err := env.engine(ctx)
		if err != nil {
			return err
		}
		by := env.actor(o.by)
		audit := lianxin.AuditEntry{Actor: actor(env.getenv)}
		if sub == "cases assign" {
			c, err = eng.AssignCase(ctx, env.now(), c.Number, positional[1], by, audit)
		} else {
			c, err = eng.StaffReply(ctx, env.now(), c.Number, strings.Join(positional[1:], " "), by, audit)
		}
		if code := lianxin.ErrorCode(err); code != "" && code != lianxin.EINTERNAL {
			return fmt.Errorf("%s", lianxin.ErrorMessage(err))
		} else if err != nil {
			return err
		}
		if sub == "cases assign" {
			fmt.Fprintf(stdout, "%s assigned to %s (%s); the deputy and the resident are told\n", c.Number, env.deputyName(c.AssigneeID), c.AssigneeID)
		} else {
			fmt.Fprintf(stdout, "%s answered (%s); the resident is told\n", c.Number, env.statusName(c.Status))
		}
		return nil
	}
	return usageError("cases")
}

// staffQueue is the staff queue within the filter's units and statuses.
func (e *operatorEnv) staffQueue(ctx context.Context, f lianxin.CaseFilter) ([]lianxin.Case, error) {
	cases, err := e.db.StaffQueue(ctx, f.Units)
	if err != nil {
		return nil, err
	}
	if len(f.Status) > 0 {
		cases = slices.DeleteFunc(cases, func(c lianxin.Case) bool { return !slices.Contains(f.Status, c.Status) })
	}
	if f.Limit > 0 && len(cases) > f.Limit {
		cases = cases[:f.Limit]
	}
	return cases, nil
}

// findCase is the case a staff member means by ref: a whole number, a
// day's (20261127-7), or today's (7).
func (e *operatorEnv) findCase(ctx context.Context, ref string) (*lianxin.Case, error) {
	number, ok := e.numbering().Number(ref, e.now())
	if !ok {
		return nil, fmt.Errorf("%q is not a case number: give KQ20261127-0007, 20261127-7, or today's 7", ref)
	}
	c, err := e.db.Case(ctx, number)
	if lianxin.ErrorCode(err) == lianxin.ENOTFOUND {
		if today, _ := e.numbering().Number(lianxin.ShortNumber(number), e.now()); today == number && !strings.Contains(ref, "-") {
			return nil, fmt.Errorf("no case %s today (%s)", ref, number)
		}
		return nil, fmt.Errorf("no case %s", number)
	}
	return c, err
}

// statuses reads --status as staff type it: a status (registered) or its
// name (已登记), or open (未办结) for every status still being handled.
func (e *operatorEnv) statuses(s string) ([]lianxin.Status, error) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "open") || s == e.text("label_status_open") {
		return lianxin.OpenStatuses, nil
	}
	for _, st := range lianxin.Statuses {
		if strings.EqualFold(s, string(st)) || s == e.statusName(st) {
			return []lianxin.Status{st}, nil
		}
	}
	valid := make([]string, 0, len(lianxin.Statuses)+1)
	for _, st := range lianxin.Statuses {
		valid = append(valid, fmt.Sprintf("%s (%s)", st, e.statusName(st)))
	}
	valid = append(valid, fmt.Sprintf("open (%s)", e.text("label_status_open")))
	return nil, fmt.Errorf("--status %q is not a status; use one of: %s", s, strings.Join(valid, ", "))
}

// units reads --station: a station's or point's id or name, or a part of
// the name that only one has; a station stands for itself and its points.
func (e *operatorEnv) units(s string) ([]string, error) {
	dir := e.data.Directory
	s = strings.TrimSpace(s)
	var found []lianxin.Station
	for _, st := range dir.Stations {
		if st.ID == s || st.Name == s {
			found = []lianxin.Station{st}
			break
		}
		if strings.Contains(st.Name, s) {
			found = append(found, st)
		}
	}
	// A part of a name may match a station and its points: the station.
	if len(found) > 1 {
		if st, ok := dir.StationOf(found[0].ID); ok && !slices.ContainsFunc(found, func(u lianxin.Station) bool {
			p, _ := dir.StationOf(u.ID)
			return p.ID != st.ID
		}) {
			found = []lianxin.Station{st}
		}
	}
	if len(found) != 1 {
		var valid []string
		for _, st := range dir.Stations {
			valid = append(valid, fmt.Sprintf("  %-14s %s", st.ID, st.Name))
		}
		what := "is not a station or point"
		if len(found) > 1 {
			what = "names more than one station or point"
		}
		return nil, fmt.Errorf("--station %q %s; use an id or a name:\n%s", s, what, strings.Join(valid, "\n"))
	}
	ids := []string{found[0].ID}
	if found[0].Kind == lianxin.StationKind {
		for _, p := range dir.Points(found[0].ID) {
			ids = append(ids, p.ID)
		}
	}
	return ids, nil
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
		tb.Row(c.Number, e.statusName(c.Status), sla, e.categoryName(c.CategoryKey), station, assignee, e.local(c.CreatedAt), oneLine(c.Description, 24))
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
	p("Status", e.statusName(c.Status)+" ("+string(c.Status)+")")
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
		queue := "the district's"
		if c.StationID != "" {
			queue = e.stationName(c.StationID) + "'s"
		}
		p("Flags", "in "+queue+" staff queue: lianxin cases assign "+lianxin.ShortNumber(c.Number)+" DEPUTY, or cases reply")
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
