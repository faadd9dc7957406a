package flows

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// The staff queue (see lianxin.Staff): cases a person must take up because
// the resident asked for one (人工), because every deputy returned them, or
// because no station could be decided. Such a case has no deputy; it is in
// its station's queue, or the district's; its staff are told, reminded
// and, when it is overdue, the station head too; the resident is told who
// will contact them and when. Staff act on it from the command line (and
// the console): AssignCase, StaffReply.

// staffTexts are the texts of the staff queue and the operators' tools,
// required like requiredTexts.
var staffTexts = []string{
	"label_status_registered", "label_status_accepted", "label_status_forwarded", "label_status_resolved",
	"label_status_reopened", "label_status_cancelled", "label_status_open",
	"staff_queued", "staff_already_queued", "staff_request_description", "staff_contact_reception",
	"staff_contact_hours", "staff_contact_soon", "district_office",
	"staff_reason_requested", "staff_reason_unroutable", "staff_reason_nobody", "staff_reason_returned",
	"staff_queued_event", "staff_notify", "staff_notify_title", "staff_robot", "staff_remind", "staff_overdue",
	"notify_resident_staff_queue", "notify_resident_staff_answered", "notify_resident_assigned",
	"staff_assigned_event", "staff_assigned_notice", "staff_assigned_accept", "staff_assigned_detail",
	"event_staff_answered", "staff_reason_left", "reassigned_event", "reassigned_notice",
}

// staff answers 人工 in a report: the draft becomes a case in the staff
// queue, and the resident is told who will contact them and when.
func (t *turn) staff() (string, error) {
	c, err := t.submit(true)
	if err != nil {
		return "", err
	}
	return join(t.txt("staff_queued", "number", c.Number, "contact", t.e.staffContact(t.dir, c.StationID, t.now)), t.pendingOffer()), nil
}

// staffWithoutDraft answers 人工 outside a report: a person is what the
// resident asked for, so a case for the district's staff is registered
// (they read the resident's messages and reply), once: while one is open,
// the resident is pointed at it.
func (t *turn) staffWithoutDraft() (string, error) {
	open, err := t.e.cfg.Store.Cases(t.ctx, lianxin.CaseFilter{OpenID: t.m.OpenID, Status: lianxin.OpenStatuses, Limit: 50})
	if err != nil {
		return "", err
	}
	for _, c := range open {
		if c.NeedsStaff {
			return t.txt("staff_already_queued", "number", c.Number, "contact", t.e.staffContact(t.dir, c.StationID, t.now)), nil
		}
	}
	t.start()
	t.s.Ans.Desc = t.txt("staff_request_description")
	return t.staff()
}

// staffAssigner puts a new case straight into the staff queue (人工).
func (t *turn) staffAssigner(r lianxin.Report) lianxin.Assigner {
	return func(_ lianxin.AssignView, number string) (lianxin.Assignment, error) {
		return t.staffQueue(caseOf(r, number, t.now), t.txt("staff_reason_requested"), false), nil
	}
}

// caseOf is what the notices of a case being registered from r need of it.
func caseOf(r lianxin.Report, number string, now time.Time) *lianxin.Case {
	return &lianxin.Case{Number: number, CategoryKey: r.Category.Key, StationID: r.StationID, Description: r.Description,
		Location: r.Location, Phone: r.Phone, OpenID: r.OpenID, UpdatedAt: now}
}

// staffQueue is the assignment of a case to its staff queue: no deputy,
// why on the timeline, its staff told, and the resident too when
// tellResident (a case they already know about, re-routed; a new case's
// reply tells them itself).
func (t *turn) staffQueue(c *lianxin.Case, reason string, tellResident bool) lianxin.Assignment {
	e, dir := t.e, t.dir
	unit := e.unitName(dir, dir.ContactUnit(c.StationID))
	a := lianxin.Assignment{NeedsStaff: true, Events: []lianxin.Event{{Type: lianxin.EventAssigned, Actor: "system",
		Text: t.txt("staff_queued_event", "unit", unit, "reason", reason), Audience: lianxin.AudienceStaff}}}
	cat := t.cats.Name(c.CategoryKey)
	place, phone := c.Location.String(), c.Phone
	if place == "" {
		place = t.txt("none")
	}
	if phone == "" {
		phone = t.txt("no_phone")
	}
	station := unit
	if c.StationID != "" {
		station = t.stationName(c.StationID)
	}
	text := t.txt("staff_notify", "number", c.Number, "reason", reason, "category", cat, "station", station,
		"description", clip(c.Description, 200), "place", place, "phone", phone, "short", lianxin.ShortNumber(c.Number))
	robot := t.txt("staff_robot", "number", c.Number, "reason", reason, "category", cat, "station", station,
		"description", clip(c.Description, 60))
	a.Notices = e.staffNotices(dir, t.cats, c, "staff:"+c.Number, text, t.txt("staff_notify_title"), robot)
	if tellResident {
		// What the resident reads on their timeline: plain words, no reasons.
		a.Events = append(a.Events, lianxin.Event{Type: lianxin.EventTold, Actor: "system", Text: t.txt("told_requeued"), Audience: lianxin.AudienceResident})
	}
	if tellResident && c.OpenID != "" {
		body := t.txt("notify_resident_staff_queue", "number", c.Number, "contact", e.staffContact(dir, c.StationID, t.now))
		a.Notices = append(a.Notices, t.notice("staff:"+c.Number+":resident", c.OpenID, body, t.txt("notify_resident_title"), c, ""))
	}
	return a
}

// staffNotices tell the staff of a case's queue: each staff member's
// WeChat, and their group robot. None when no one is configured (the case
// is then only in the register: lianxin cases list --queue).
func (e *Engine) staffNotices(dir *lianxin.Directory, cats lianxin.Categories, c *lianxin.Case, idem, text, title, robot string) []lianxin.Notice {
	staff, _, ok := dir.StaffFor(c.StationID)
	if !ok {
		return nil
	}
	var out []lianxin.Notice
	for _, openid := range staff.OpenIDs {
		out = append(out, e.notice(idem+":"+openid, openid, text, title, c, "", cats, dir))
	}
	if staff.RobotWebhook != "" {
		out = append(out, lianxin.Notice{IdemKey: idem + ":robot", Kind: lianxin.OutboxRobot, Recipient: staff.RobotWebhook,
			Payload: lianxin.RobotPayload{MsgType: "text", Content: robot}})
	}
	return out
}

// unitName is how residents are told who will contact them: the unit's
// name, or the district office's for the zero unit.
func (e *Engine) unitName(dir *lianxin.Directory, u lianxin.Station) string {
	if u.ID != "" {
		return u.Name
	}
	if dir.District.Name != "" {
		return dir.District.Name
	}
	return e.texts.Get("district_office")
}

// staffContact says, as the resident reads it, who will contact them about
// a case of unitID and when: the unit's staff at its reception hours (and
// the next one), or the district office's at its hours.
func (e *Engine) staffContact(dir *lianxin.Directory, unitID string, now time.Time) string {
	u := dir.ContactUnit(unitID)
	who := e.unitName(dir, u)
	switch {
	case u.ID != "" && len(u.Reception) > 0:
		address := u.Address
		if address == "" {
			address = u.Name
		}
		return e.texts.Get("staff_contact_reception", "who", who, "hours", u.ReceptionHours(),
			"next", u.NextReceptionText(now, e.cfg.Numbering.Location), "address", address)
	case u.ID == "" && dir.District.Hours != "":
		return e.texts.Get("staff_contact_hours", "who", who, "hours", dir.District.Hours)
	}
	return e.texts.Get("staff_contact_soon", "who", who)
}

// staffSupervision are the 督办 notices of a case in a staff queue: its
// staff reminded, and when a deadline passed, the station head told too.
func (e *Engine) staffSupervision(snap *directorySnapshot, c *lianxin.Case, idem, what, due string, overdue bool) []lianxin.Notice {
	cat := snap.cats.Name(c.CategoryKey)
	key, title := "staff_remind", "remind_title"
	if overdue {
		key, title = "staff_overdue", "overdue_title"
	}
	text := e.texts.Get(key, "number", c.Number, "category", cat, "what", e.texts.Get(what), "due", due)
	notices := e.staffNotices(snap.dir, snap.cats, c, idem, text, e.texts.Get(title), text)
	if st, ok := snap.dir.StationOf(c.StationID); ok && overdue {
		if head, ok := snap.dir.Head(st.ID); ok {
			notices = append(notices, e.notice(idem+":"+head.ID, lianxin.DeputyRecipient(head.ID), text, e.texts.Get(title), c, "", snap.cats, snap.dir))
		}
	}
	return notices
}

// AssignCase gives a case to a deputy on behalf of staff member by
// (lianxin cases assign, the console), as routing would have: the deputy
// is told, the resident too, the case leaves the staff queue; one
// transition, with its timeline event. Only an open case, and only a
// deputy of the directory. audit names who ran it (Actor, Addr); the entry
// is written with the change.
func (e *Engine) AssignCase(ctx context.Context, now time.Time, number, deputyID, by string, audit lianxin.AuditEntry) (*lianxin.Case, error) {
	snap := e.dir.Load()
	c, err := e.cfg.Store.Case(ctx, number)
	if err != nil {
		return nil, err
	}
	d, ok := snap.dir.Deputy(deputyID)
	switch {
	case !ok:
		return nil, lianxin.Errorf(lianxin.EINVALID, "no deputy %q in the directory (see lianxin deputy list)", deputyID)
	case !c.Status.Open():
		return nil, lianxin.Errorf(lianxin.ECONFLICT, "%s is %s: only an open case can be assigned", c.Number, c.Status)
	case c.AssigneeID == d.ID && !c.NeedsStaff:
		return nil, lianxin.Errorf(lianxin.ECONFLICT, "%s is %s's already", c.Number, d.Name)
	}
	tx := func(k string, pairs ...string) string { return e.texts.Get(k, pairs...) }
	staffed := false
	tr := lianxin.Transition{CaseID: c.ID, From: lianxin.OpenStatuses, FromAssignee: &c.AssigneeID, Assignee: &d.ID, NeedsStaff: &staffed,
		Events: []lianxin.Event{{Type: lianxin.EventAssigned, Actor: "staff:" + by, Text: tx("staff_assigned_event", "deputy", d.Name, "by", by)},
			{Type: lianxin.EventTold, Actor: "system", Text: tx("told_assigned", "deputy", d.Name), Audience: lianxin.AudienceResident}}}
	short := lianxin.ShortNumber(c.Number)
	next := tx("staff_assigned_detail", "short", short)
	if c.Status == lianxin.StatusRegistered || c.Status == lianxin.StatusReopened {
		due := tx("none")
		if c.AcceptDue != nil {
			due = c.AcceptDue.In(e.cfg.Numbering.Location).Format("01-02 15:04")
		}
		next = tx("staff_assigned_accept", "short", short, "accept_due", due)
	}
	place := c.Location.String()
	if place == "" {
		place = tx("none")
	}
	station := e.unitName(snap.dir, lianxin.Station{})
	if st, ok := snap.dir.Station(c.StationID); ok {
		station = st.Name
	}
	idem := fmt.Sprintf("staff-assign:%s:%s:%d", c.Number, d.ID, now.UnixNano())
	text := tx("staff_assigned_notice", "number", c.Number, "category", snap.cats.Name(c.CategoryKey), "station", station,
		"description", clip(c.Description, 200), "place", place, "by", by, "next", next)
	tr.Notices = append(tr.Notices, e.notice(idem, lianxin.DeputyRecipient(d.ID), text, tx("notify_new_case_title"), c, d.Name, snap.cats, snap.dir))
	audit.Action, audit.Subject, audit.Detail = lianxin.ActAssign, c.Number, d.ID+" "+by
	tr.Audit = append(tr.Audit, audit)
	if c.OpenID != "" {
		body := tx("notify_resident_assigned", "number", c.Number, "deputy", d.Name)
		tr.Notices = append(tr.Notices, e.notice(idem+":resident", c.OpenID, body, tx("notify_resident_title"), c, d.Name, snap.cats, snap.dir))
	}
	return e.cfg.Store.Transition(ctx, tr)
}

// StaffReply answers the resident on behalf of staff member by (lianxin
// cases reply, the console), as a deputy's 答复 does: the answer goes to
// the resident, a case waiting to be taken up is taken up; one transition,
// with its timeline event and audit entry. Only an open case.
func (e *Engine) StaffReply(ctx context.Context, now time.Time, number, text, by string, audit lianxin.AuditEntry) (*lianxin.Case, error) {
	snap := e.dir.Load()
	text = strings.TrimSpace(text)
	if text == "" {
		return nil, lianxin.Errorf(lianxin.EINVALID, "the reply is empty")
	}
	c, err := e.cfg.Store.Case(ctx, number)
	if err != nil {
		return nil, err
	}
	if !c.Status.Open() {
		return nil, lianxin.Errorf(lianxin.ECONFLICT, "%s is %s: only an open case is answered here", c.Number, c.Status)
	}
	tr := lianxin.Transition{CaseID: c.ID, From: lianxin.OpenStatuses, FromAssignee: &c.AssigneeID,
		Events: []lianxin.Event{{Type: lianxin.EventStaffAnswered, Actor: "staff:" + by, Text: text, Audience: lianxin.AudienceResident}}}
	if c.Status == lianxin.StatusRegistered || c.Status == lianxin.StatusReopened {
		tr.Status = lianxin.StatusAccepted
	}
	audit.Action, audit.Subject, audit.Detail = lianxin.ActAnswer, c.Number, text
	tr.Audit = append(tr.Audit, audit)
	if c.OpenID != "" {
		who := e.unitName(snap.dir, snap.dir.ContactUnit(c.StationID))
		body := e.texts.Get("notify_resident_staff_answered", "who", who, "number", c.Number, "text", text)
		idem := fmt.Sprintf("staff-reply:%s:%d", c.Number, now.UnixNano())
		tr.Notices = append(tr.Notices, e.notice(idem, c.OpenID, body, e.texts.Get("notify_resident_title"), c, "", snap.cats, snap.dir))
	}
	return e.cfg.Store.Transition(ctx, tr)
}
