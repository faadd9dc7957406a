package report

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/lianxin/lianxin"
)

// Monthly is a station's (or the district's) monthly report (月度报告): the
// month's numbers, its overdue cases with what the timeline says of them,
// and the typical cases staff chose.
type Monthly struct {
	Month       string `json:"month"`
	StationID   string `json:"station_id,omitempty"`
	StationName string `json:"station_name,omitempty"`
	Stats       *Stats `json:"stats"`
	// Overdue are the cases that ran over a deadline in the month.
	Overdue []OverdueCase `json:"overdue"`
	// Typical are the typical cases of the month, read afresh each time:
	// staff choose them after the month is over.
	Typical []TypicalCase `json:"-"`
	// Frozen: the figures are those first generated after the month ended
	// (at GeneratedAt), whatever happened to its cases since.
	Frozen      bool      `json:"-"`
	GeneratedAt time.Time `json:"-"`
}

// OverdueCase is a case on the month's overdue list.
type OverdueCase struct {
	Number      string     `json:"number"`
	Category    string     `json:"category"`
	Station     string     `json:"station"`
	Deputy      string     `json:"deputy"`
	Status      string     `json:"status"` // its Chinese label
	CreatedAt   time.Time  `json:"created_at"`
	MissedStage string     `json:"missed"` // "accept" or "resolve"
	Due         *time.Time `json:"due,omitempty"`
	DaysOver    int        `json:"days_over"`
	Departments []string   `json:"departments,omitempty"`
	Progress    string     `json:"progress,omitempty"`
	Description string     `json:"description"`
}

// TypicalCase is a typical case (典型案例) as the report tells it.
type TypicalCase struct {
	Number      string
	Category    string
	Station     string
	Deputy      string
	Place       string
	Description string
	Departments []string
	Result      string
	Rating      string
	Note        string
}

// snapshotKind is the monthly report's kind in the snapshots.
const snapshotKind = "monthly"

// Monthly builds the report of a month ("2026-10") for a station with its
// points ("" for the whole district). A finished month's figures are taken
// from its snapshot when there is one and stored when there is not, so the
// report reads the same whenever it is printed again; recompute (audited as
// actor) replaces the snapshot with figures computed afresh.
func (r *Reporter) Monthly(ctx context.Context, month, stationID string, recompute bool, actor string) (*Monthly, error) {
	from, to, err := lianxin.MonthRange(month, r.cfg.Location)
	if err != nil {
		return nil, lianxin.Errorf(lianxin.EINVALID, "%v", err)
	}
	f := lianxin.CaseFilter{From: from, To: to}
	m := &Monthly{Month: from.Format("2006-01"), StationID: stationID}
	if stationID != "" {
		st, ok := r.cfg.Directory.Station(stationID)
		if !ok {
			return nil, lianxin.Errorf(lianxin.EINVALID, "no station or point %q", stationID)
		}
		f.Units = r.cfg.Directory.Units(stationID)
		m.StationName = st.Name
	}
	scope := m.Month
	if stationID != "" {
		scope += "/" + stationID
	}
	finished := !to.After(r.now())
	if finished && r.cfg.Snapshots != nil && !recompute {
		data, at, ok, err := r.cfg.Snapshots.Snapshot(ctx, snapshotKind, scope)
		if err != nil {
			return nil, err
		}
		if ok {
			if err := json.Unmarshal(data, m); err != nil {
				return nil, fmt.Errorf("report: snapshot %s: %w", scope, err)
			}
			m.Frozen, m.GeneratedAt = true, at
			return m, r.typical(ctx, m, f)
		}
	}
	if m.Stats, err = r.StatsFor(ctx, f, 12); err != nil {
		return nil, err
	}
	m.Stats.Month, m.Stats.StationID, m.Stats.StationName = m.Month, stationID, m.StationName
	if m.Overdue, err = r.overdue(ctx, f); err != nil {
		return nil, err
	}
	m.GeneratedAt = m.Stats.GeneratedAt
	if finished && r.cfg.Snapshots != nil {
		data, err := json.Marshal(m)
		if err != nil {
			return nil, err
		}
		stored, at, err := r.cfg.Snapshots.PutSnapshot(ctx, snapshotKind, scope, data, recompute, lianxin.AuditEntry{Actor: actor})
		if err != nil {
			return nil, err
		}
		// Another process may have stored its own first: that one counts.
		if !bytes.Equal(stored, data) {
			*m = Monthly{}
			if err := json.Unmarshal(stored, m); err != nil {
				return nil, err
			}
		}
		m.Frozen, m.GeneratedAt = true, at
	}
	return m, r.typical(ctx, m, f)
}

// overdue lists the cases overdue in the period, with the deadline they
// missed (in the round that missed it) and what their timeline says.
func (r *Reporter) overdue(ctx context.Context, f lianxin.CaseFilter) ([]OverdueCase, error) {
	f.Measure = lianxin.MeasureOverdue
	cut := f.To
	if cut.IsZero() || cut.After(r.now()) {
		cut = r.now()
	}
	var out []OverdueCase
	var ids []int64
	err := r.cfg.Register.RegisterRows(ctx, f, func(row *lianxin.RegisterRow) error {
		c := &row.Case
		o := OverdueCase{Number: c.Number, Category: r.cfg.Categories.Name(c.CategoryKey), Station: r.unitName(c.StationID),
			Deputy: r.deputyName(c.AssigneeID), Status: r.txt("status_" + string(c.Status)), CreatedAt: r.local(c.CreatedAt),
			Progress: row.Progress, Description: c.Description}
		for _, fw := range row.Forwarded {
			if d := r.department(fw); d != "" && !contains(o.Departments, d) {
				o.Departments = append(o.Departments, d)
			}
		}
		out = append(out, o)
		ids = append(ids, c.ID)
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i, id := range ids {
		rounds, err := r.cfg.Register.Rounds(ctx, id)
		if err != nil {
			return nil, err
		}
		missed(&out[i], rounds, f.From, cut)
		if out[i].Due != nil {
			due := r.local(*out[i].Due)
			out[i].Due = &due
		}
	}
	return out, nil
}

// missed finds the deadline a case ran over in [from, cut) (as the store's
// overdue measure does): the first round whose accept or resolve deadline
// passed unmet inside the period, and by how many days (to when it was met,
// or to cut).
func missed(o *OverdueCase, rounds []lianxin.Round, from, cut time.Time) {
	for _, rd := range rounds {
		if !rd.Start.Before(cut) {
			break
		}
		taken := rd.AcceptedAt
		if taken == nil {
			taken = rd.ClosedAt
		}
		for _, m := range []struct {
			stage string
			due   *time.Time
			met   *time.Time
		}{{"accept", rd.AcceptDue, taken}, {"resolve", rd.ResolveDue, rd.ClosedAt}} {
			if m.due == nil || !m.due.Before(cut) {
				continue
			}
			end := cut
			if m.met != nil && m.met.Before(cut) {
				end = *m.met
			}
			if m.met != nil && (!m.met.After(*m.due) || !m.met.After(from)) {
				continue // met in time, or before the period
			}
			o.MissedStage, o.Due = m.stage, m.due
			o.DaysOver = int((end.Sub(*m.due) + 24*time.Hour - 1) / (24 * time.Hour))
			return
		}
	}
}

// typical reads the month's typical cases: those handled in it that staff
// marked.
func (r *Reporter) typical(ctx context.Context, m *Monthly, f lianxin.CaseFilter) error {
	f.Measure, f.Typical = lianxin.MeasureHandled, true
	m.Typical = nil
	return r.cfg.Register.RegisterRows(ctx, f, func(row *lianxin.RegisterRow) error {
		c := &row.Case
		t := TypicalCase{Number: c.Number, Category: r.cfg.Categories.Name(c.CategoryKey), Station: r.unitName(c.StationID),
			Deputy: r.deputyName(c.AssigneeID), Place: c.Location.String(), Description: c.Description,
			Result: row.Result, Note: c.TypicalNote}
		if row.Rating != "" {
			t.Rating = r.txt("rating_" + row.Rating)
		}
		for _, fw := range row.Forwarded {
			if d := r.department(fw); d != "" && !contains(t.Departments, d) {
				t.Departments = append(t.Departments, d)
			}
		}
		m.Typical = append(m.Typical, t)
		return nil
	})
}

// WriteMonthlyHTML writes the monthly report as a printable HTML document.
func (r *Reporter) WriteMonthlyHTML(w io.Writer, m *Monthly) error {
	return r.render(w, "monthly.html", map[string]any{"M": m, "S": m.Stats, "Dir": r.cfg.Directory, "Units": unitsOf(r, m.StationID)})
}

func unitsOf(r *Reporter, stationID string) []string {
	if stationID == "" {
		return nil
	}
	return r.cfg.Directory.Units(stationID)
}
