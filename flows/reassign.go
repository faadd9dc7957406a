package flows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// Reassignment is an open case of a deputy who left the directory, and
// where it goes: to a deputy, or (To empty) its staff queue.
type Reassignment struct {
	Case lianxin.Case
	// From is the deputy who left, To the one who takes over ("" for the
	// staff queue), Why what routing said.
	From, To, Why string
}

// ReassignLeavers gives every open case whose deputy is no longer in the
// directory (removed by an import) to someone else, as routing would: a
// deputy of its station (never one who returned it; the station head when
// nobody else can), or its staff queue when nobody can. Each move is one
// transition with its timeline entry naming who left, the new deputy (or
// the staff) and the resident told. With dryRun nothing is written: the
// moves say where each case would go. leaverName names a deputy who left
// (the directory no longer can).
func (e *Engine) ReassignLeavers(ctx context.Context, now time.Time, leaverName func(id string) string, dryRun bool) ([]Reassignment, error) {
	snap := e.dir.Load()
	open, err := e.cfg.Store.Cases(ctx, lianxin.CaseFilter{Status: lianxin.OpenStatuses})
	if err != nil {
		return nil, err
	}
	// Oldest first: the first to have waited is the first routed.
	slices.Reverse(open)
	var out []Reassignment
	for i := range open {
		c := &open[i]
		if _, stays := snap.dir.Deputy(c.AssigneeID); stays || c.AssigneeID == "" {
			continue
		}
		m, tr, err := e.reassign(ctx, snap, now, c, leaverName(c.AssigneeID))
		if err != nil {
			return out, err
		}
		if !dryRun {
			if _, err := e.cfg.Store.Transition(ctx, tr); err != nil {
				return out, err
			}
		}
		out = append(out, m)
	}
	return out, nil
}

// reassign decides where a leaver's case goes and the transition that
// moves it there.
func (e *Engine) reassign(ctx context.Context, snap *directorySnapshot, now time.Time, c *lianxin.Case, leaver string) (Reassignment, lianxin.Transition, error) {
	t := &turn{e: e, ctx: ctx, now: now, st: &recordingStore{Store: e.cfg.Store}, dir: snap.dir, cats: snap.cats, cl: snap.cl}
	returned, err := e.cfg.Store.ReturnedBy(ctx, c.ID)
	if err != nil {
		return Reassignment{}, lianxin.Transition{}, err
	}
	exclude := []string{c.AssigneeID}
	for _, a := range returned {
		exclude = append(exclude, strings.TrimPrefix(a, "deputy:"))
	}
	cat, _ := snap.cats.ByKey(c.CategoryKey)
	r := lianxin.Report{Category: cat, Description: c.Description, Location: c.Location, StationID: c.StationID, OpenID: c.OpenID, Phone: c.Phone}
	m := Reassignment{Case: *c, From: c.AssigneeID}
	from := c.AssigneeID
	tr := lianxin.Transition{CaseID: c.ID, From: lianxin.OpenStatuses, FromAssignee: &from}
	var d lianxin.Deputy
	ok := false
	if c.StationID != "" {
		if d, m.Why, ok, err = t.pickDeputy(e.cfg.Store.AssignView(), r, exclude); err != nil {
			return m, tr, err
		}
	}
	idem := fmt.Sprintf("leaver:%s:%s", c.Number, from)
	if !ok {
		a := t.staffQueue(c, t.txt("staff_reason_left", "deputy", leaver), true)
		staffed, nobody := true, ""
		tr.Assignee, tr.NeedsStaff, tr.Events, tr.Notices = &nobody, &staffed, a.Events, a.Notices
		for i := range tr.Notices {
			tr.Notices[i].IdemKey = idem + ":" + tr.Notices[i].IdemKey
		}
		return m, tr, nil
	}
	m.To = d.ID
	tr.Assignee = &d.ID
	tr.Events = []lianxin.Event{{Type: lianxin.EventAssigned, Actor: "system", Text: t.txt("reassigned_event", "from", leaver, "deputy", d.Name, "reason", m.Why)},
		{Type: lianxin.EventTold, Actor: "system", Text: t.txt("told_reassigned", "deputy", d.Name), Audience: lianxin.AudienceResident}}
	short := lianxin.ShortNumber(c.Number)
	next := t.txt("staff_assigned_detail", "short", short)
	if c.Status == lianxin.StatusRegistered || c.Status == lianxin.StatusReopened {
		due := t.txt("none")
		if c.AcceptDue != nil {
			due = c.AcceptDue.In(e.cfg.Numbering.Location).Format("01-02 15:04")
		}
		next = t.txt("staff_assigned_accept", "short", short, "accept_due", due)
	}
	place := c.Location.String()
	if place == "" {
		place = t.txt("none")
	}
	text := t.txt("reassigned_notice", "number", c.Number, "category", cat.Name, "station", t.stationName(c.StationID),
		"description", clip(c.Description, 200), "place", place, "from", leaver, "status", t.txt("status_"+string(c.Status)), "next", next)
	tr.Notices = append(tr.Notices, t.notice(idem+":"+d.ID, lianxin.DeputyRecipient(d.ID), text, t.txt("notify_new_case_title"), c, d.Name))
	if c.OpenID != "" {
		body := t.txt("notify_resident_assigned", "number", c.Number, "deputy", d.Name)
		tr.Notices = append(tr.Notices, t.notice(idem+":resident", c.OpenID, body, t.txt("notify_resident_title"), c, d.Name))
	}
	return m, tr, nil
}
