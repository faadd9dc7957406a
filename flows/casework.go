package flows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// Casework is what staff and deputies do to cases from the console. The
// chat verbs (受理, 答复, 转办, 进展, 办结, 退回) are the very functions
// deputies' chat commands run, so a case moves by the same rules and tells
// the same people whichever way it is handled; the console adds what only
// staff do (assign, reopen, re-route, merge, notes, moderation). Every
// action is one transaction: the change, its timeline event, its notices
// and its audit entry.

// CaseworkStore is what console actions read and write (store.DB).
type CaseworkStore interface {
	CaseInScope(ctx context.Context, scope lianxin.Scope, number string) (*lianxin.Case, error)
}

// Directory is the directory and categories turns work with now.
func (e *Engine) Directory() (*lianxin.Directory, lianxin.Categories) {
	snap := e.dir.Load()
	return snap.dir, snap.cats
}

// consoleTurn is a turn with no message: a console action.
func (e *Engine) consoleTurn(ctx context.Context, a *lianxin.CaseAction) *turn {
	snap := e.dir.Load()
	now := time.Now()
	if e.cfg.Now != nil {
		now = e.cfg.Now()
	}
	return &turn{e: e, ctx: ctx, s: &Session{}, now: now, st: &recordingStore{Store: e.cfg.Store},
		dir: snap.dir, cats: snap.cats, cl: snap.cl, console: a}
}

// actorRef is who a timeline entry names: the deputy in chat, the signed-in
// user in the console.
func (t *turn) actorRef(d lianxin.Deputy) string {
	if t.console != nil {
		return t.console.Actor.Ref()
	}
	return "deputy:" + d.ID
}

// idem is the idempotency key of what this turn queues about c: the
// message's identity in chat, the form's in the console.
func (t *turn) idem(kind string, c *lianxin.Case) string {
	if t.console != nil {
		return fmt.Sprintf("%s:%s:console:%s", kind, c.Number, t.console.IdemKey)
	}
	return fmt.Sprintf("%s:%s:%s", kind, c.Number, t.m.Account+":"+t.m.Key())
}

// consoleChange makes a transition a console action's: only if the case is
// still as the form showed it and within the user's scope, audited.
func (t *turn) consoleChange(tr *lianxin.Transition, c *lianxin.Case) {
	a := t.console
	if a == nil {
		return
	}
	scope := a.Scope
	tr.Scope, tr.Seen = &scope, a.Seen
	detail := a.Text
	switch {
	case a.DeputyID != "":
		detail = strings.TrimSpace(a.DeputyID + " " + detail)
	case a.DepartmentID != "":
		detail = strings.TrimSpace(a.DepartmentID + " " + detail)
	case a.Duplicate != "":
		detail = a.Duplicate
	case a.Category != "" || a.StationID != "":
		detail = strings.TrimSpace(a.Category + " " + a.StationID)
	case a.AttachmentID != 0:
		detail = fmt.Sprint(a.AttachmentID)
	case a.Verb == lianxin.ActPrivate || a.Verb == lianxin.ActBlock:
		detail = fmt.Sprint(a.On)
	}
	tr.Audit = []lianxin.AuditEntry{{Actor: a.Actor.Ref(), Action: a.Verb, Subject: c.Number, Detail: detail, Addr: a.Addr}}
	// A person from the station has taken it up: it leaves the 人工 queue.
	if c.NeedsStaff && a.Actor.Role != lianxin.RoleDeputy && staffHandles[a.Verb] {
		handled := false
		tr.NeedsStaff = &handled
	}
}

// staffHandles are the actions by which staff answer a 人工 request.
var staffHandles = map[string]bool{lianxin.ActAccept: true, lianxin.ActAnswer: true, lianxin.ActProgress: true,
	lianxin.ActForward: true, lianxin.ActResolve: true}

// chatVerbs maps console verbs to the chat command that does the same.
var chatVerbs = map[string]string{
	lianxin.ActAccept: "受理", lianxin.ActAnswer: "答复", lianxin.ActForward: "转办",
	lianxin.ActProgress: "进展", lianxin.ActResolve: "办结", lianxin.ActReturn: "退回",
}

// Act carries out a console action. The case must be within the actor's
// scope (else ENOTFOUND, as for a wrong number) and as the form showed it
// (else ECONFLICT); a deputy may only use the chat verbs and notes, on
// cases they may act on in chat (theirs, or their station's as its head).
func (e *Engine) Act(ctx context.Context, a lianxin.CaseAction) (*lianxin.Case, error) {
	if e.cfg.Casework == nil {
		return nil, lianxin.Errorf(lianxin.EUNAVAILABLE, "console actions are not wired")
	}
	t := e.consoleTurn(ctx, &a)
	c, err := e.cfg.Casework.CaseInScope(ctx, a.Scope, a.Number)
	if err != nil {
		return nil, err
	}
	if a.Actor.Role == lianxin.RoleDeputy {
		d, ok := t.dir.Deputy(a.Actor.DeputyID)
		if !ok || !slices.Contains(lianxin.DeputyActs, a.Verb) || !t.canAct(d, c) {
			return nil, lianxin.Errorf(lianxin.EFORBIDDEN, "deputy %s may not %s %s", a.Actor.DeputyID, a.Verb, c.Number)
		}
	} else if a.Actor.Role != lianxin.RoleStaff && a.Actor.Role != lianxin.RoleAdmin {
		return nil, lianxin.Errorf(lianxin.EFORBIDDEN, "role %q may not act", a.Actor.Role)
	}
	if word, ok := chatVerbs[a.Verb]; ok {
		return t.consoleChatVerb(c, word)
	}
	switch a.Verb {
	case lianxin.ActAssign:
		return t.consoleAssign(c)
	case lianxin.ActReopen:
		return t.consoleReopen(c)
	case lianxin.ActNote:
		return t.consoleSimple(c, lianxin.Event{Type: lianxin.EventNote, Text: a.Text}, nil)
	case lianxin.ActReroute:
		return t.consoleReroute(c)
	case lianxin.ActMerge:
		return t.consoleMerge(c)
	case lianxin.ActPrivate:
		on := a.On
		return t.consoleSimple(c, lianxin.Event{Type: lianxin.EventPrivate, Text: onOff(on, "不公开", "公开")},
			func(tr *lianxin.Transition) { tr.Private = &on })
	case lianxin.ActHidePhoto:
		if !slices.ContainsFunc(c.Attachments, func(x lianxin.Attachment) bool { return x.ID == a.AttachmentID }) {
			return nil, lianxin.Errorf(lianxin.ENOTFOUND, "attachment %d not in %s", a.AttachmentID, c.Number)
		}
		return t.consoleSimple(c, lianxin.Event{Type: lianxin.EventPhotoHidden, Text: a.Text},
			func(tr *lianxin.Transition) { tr.HideAttachment = a.AttachmentID })
	case lianxin.ActBlock:
		if c.OpenID == "" {
			return nil, lianxin.Errorf(lianxin.EINVALID, "case %s has no WeChat sender", c.Number)
		}
		return t.consoleSimple(c, lianxin.Event{Type: lianxin.EventBlocked, Text: onOff(a.On, "屏蔽", "解除屏蔽") + " " + a.Text},
			func(tr *lianxin.Transition) {
				tr.Block = &lianxin.Block{OpenID: c.OpenID, On: a.On, Reason: a.Text, By: a.Actor.Ref()}
			})
	}
	return nil, lianxin.Errorf(lianxin.EINVALID, "unknown action %q", a.Verb)
}

func onOff(on bool, yes, no string) string {
	if on {
		return yes
	}
	return no
}

// consoleChatVerb runs a chat verb for the console: in the deputy's own
// name when a deputy acts, on the assignee's behalf when staff do.
func (t *turn) consoleChatVerb(c *lianxin.Case, word string) (*lianxin.Case, error) {
	a := t.console
	v, _ := verbNamed(word)
	if !c.Status.Open() || (v.acceptOnly && c.Status != lianxin.StatusRegistered && c.Status != lianxin.StatusReopened) {
		return nil, lianxin.Errorf(lianxin.ECONFLICT, "case %s is %s: cannot %s", c.Number, c.Status, a.Verb)
	}
	if v.needsText && strings.TrimSpace(a.Text) == "" && a.Verb != lianxin.ActForward {
		return nil, lianxin.Errorf(lianxin.EINVALID, "%s needs text", a.Verb)
	}
	deputyID := c.AssigneeID
	if a.Actor.Role == lianxin.RoleDeputy {
		deputyID = a.Actor.DeputyID
	}
	d, ok := t.dir.Deputy(deputyID)
	if !ok && (a.Verb == lianxin.ActAccept || a.Verb == lianxin.ActForward || a.Verb == lianxin.ActReturn) {
		return nil, lianxin.Errorf(lianxin.EINVALID, "case %s has no deputy to %s for", c.Number, a.Verb)
	}
	text := strings.TrimSpace(a.Text)
	if a.Verb == lianxin.ActForward {
		dep, ok := t.dir.Department(a.DepartmentID)
		if !ok {
			return nil, lianxin.Errorf(lianxin.EINVALID, "no department %q", a.DepartmentID)
		}
		text = strings.TrimSpace(dep.ID + " " + text)
	}
	if _, err := v.do(t, d, c, text, t.idem("act", c)); err != nil {
		return nil, err
	}
	return t.e.cfg.Casework.CaseInScope(t.ctx, lianxin.Scope{All: true}, c.Number)
}

// consoleSimple records an event (and whatever set changes) and nothing else.
func (t *turn) consoleSimple(c *lianxin.Case, ev lianxin.Event, set func(*lianxin.Transition)) (*lianxin.Case, error) {
	tr := lianxin.Transition{CaseID: c.ID}
	t.consoleChange(&tr, c)
	ev.Actor = t.console.Actor.Ref()
	tr.Events = []lianxin.Event{ev}
	if set != nil {
		set(&tr)
	}
	return t.st.Transition(t.ctx, tr)
}

// consoleAssign gives the case to a named deputy, who is notified as for a
// routed case; it leaves the staff queue. An accepted case given to someone
// else waits for them to accept it.
func (t *turn) consoleAssign(c *lianxin.Case) (*lianxin.Case, error) {
	a := t.console
	d, ok := t.dir.Deputy(a.DeputyID)
	if !ok {
		return nil, lianxin.Errorf(lianxin.EINVALID, "no deputy %q", a.DeputyID)
	}
	if !c.Status.Open() {
		return nil, lianxin.Errorf(lianxin.ECONFLICT, "case %s is %s", c.Number, c.Status)
	}
	if d.ID == c.AssigneeID {
		return nil, lianxin.Errorf(lianxin.ECONFLICT, "case %s is already %s's", c.Number, d.ID)
	}
	tr := t.change(c)
	assignee, staff := d.ID, false
	tr.Assignee, tr.NeedsStaff = &assignee, &staff
	if c.Status != lianxin.StatusReopened {
		tr.Status = lianxin.StatusRegistered
	}
	why := t.txt("reason_staff_assigned")
	tr.Events = []lianxin.Event{{Type: lianxin.EventAssigned, Actor: a.Actor.Ref(), Text: d.Name + "（" + why + "）"},
		{Type: lianxin.EventTold, Actor: "system", Text: t.txt("told_assigned", "deputy", d.Name), Audience: lianxin.AudienceResident}}
	tr.Notices = t.newCaseNotices(c, d, why, t.idem("assign", c))
	return t.st.Transition(t.ctx, tr)
}

// newCaseNotices tell a deputy a case is now theirs, and the station's robot.
func (t *turn) newCaseNotices(c *lianxin.Case, d lianxin.Deputy, why, idem string) []lianxin.Notice {
	cat, _ := t.cats.ByKey(c.CategoryKey)
	place := c.Location.String()
	if place == "" {
		place = t.txt("none")
	}
	dueText := ""
	if h := cat.AcceptHours; h > 0 {
		dueText = t.now.Add(time.Duration(h) * time.Hour).In(t.e.cfg.Numbering.Location).Format("01-02 15:04")
	}
	text := t.txt("notify_new_case", "number", c.Number, "category", cat.Name, "station", t.stationName(c.StationID),
		"description", clip(c.Description, 200), "place", place, "reason", why, "accept_due", dueText, "short", lianxin.ShortNumber(c.Number))
	out := []lianxin.Notice{t.notice(idem+":"+d.ID, lianxin.DeputyRecipient(d.ID), text, t.txt("notify_new_case_title"), c, d.Name)}
	if n, ok := t.robotNotice("robot:"+idem, c, t.txt("robot_new_case", "number", c.Number, "category", cat.Name,
		"station", t.stationName(c.StationID), "deputy", d.Name, "description", clip(c.Description, 60))); ok {
		out = append(out, n)
	}
	return out
}

// consoleReopen reopens a resolved case (重办) and tells its deputy and
// the station head, as a resident's 不满意 does.
func (t *turn) consoleReopen(c *lianxin.Case) (*lianxin.Case, error) {
	if c.Status != lianxin.StatusResolved {
		return nil, lianxin.Errorf(lianxin.ECONFLICT, "case %s is %s, not resolved", c.Number, c.Status)
	}
	tr := lianxin.Transition{CaseID: c.ID, From: []lianxin.Status{lianxin.StatusResolved}, Status: lianxin.StatusReopened}
	t.consoleChange(&tr, c)
	tr.Events = []lianxin.Event{{Type: lianxin.EventReopened, Actor: t.console.Actor.Ref(), Text: t.console.Text, Audience: lianxin.AudienceResident}}
	cat, _ := t.cats.ByKey(c.CategoryKey)
	d, _ := t.dir.Deputy(c.AssigneeID)
	idem := t.idem("reopen", c)
	body := t.txt("notify_reopened_staff", "number", c.Number, "category", cat.Name, "deputy", d.Name, "text", t.console.Text)
	title := t.txt("notify_reopened_title")
	told := map[string]bool{}
	if c.AssigneeID != "" {
		tr.Notices = append(tr.Notices, t.notice(idem+":"+c.AssigneeID, lianxin.DeputyRecipient(c.AssigneeID), body, title, c, d.Name))
		told[c.AssigneeID] = true
	}
	if st, ok := t.dir.StationOf(c.StationID); ok {
		if head, ok := t.dir.Head(st.ID); ok && !told[head.ID] {
			tr.Notices = append(tr.Notices, t.notice(idem+":"+head.ID, lianxin.DeputyRecipient(head.ID), body, title, c, d.Name))
		}
	}
	return t.st.Transition(t.ctx, tr)
}

// consoleReroute changes the category or the station and routes the case
// again, as if it had just come in there.
func (t *turn) consoleReroute(c *lianxin.Case) (*lianxin.Case, error) {
	a := t.console
	if !c.Status.Open() {
		return nil, lianxin.Errorf(lianxin.ECONFLICT, "case %s is %s", c.Number, c.Status)
	}
	catKey, station := c.CategoryKey, c.StationID
	if a.Category != "" {
		catKey = a.Category
	}
	if a.StationID != "" {
		station = a.StationID
	}
	cat, ok := t.cats.ByKey(catKey)
	if !ok {
		return nil, lianxin.Errorf(lianxin.EINVALID, "no category %q", catKey)
	}
	if _, ok := t.dir.Station(station); !ok {
		return nil, lianxin.Errorf(lianxin.EINVALID, "no station %q", station)
	}
	if catKey == c.CategoryKey && station == c.StationID {
		return nil, lianxin.Errorf(lianxin.EINVALID, "nothing changed")
	}
	r := lianxin.Report{Category: cat, Description: c.Description, Location: c.Location, StationID: station, OpenID: c.OpenID, Phone: c.Phone}
	photos, _, _ := mediaCounts(c)
	asg, err := t.assigner(r, nil, "told_reassigned", photos)(t.e.cfg.Store.AssignView(), c.Number)
	if err != nil {
		return nil, err
	}
	tr := t.change(c)
	tr.Category, tr.StationID, tr.Assignee = catKey, &station, &asg.AssigneeID
	staff := asg.NeedsStaff
	tr.NeedsStaff = &staff
	if c.Status != lianxin.StatusReopened {
		tr.Status = lianxin.StatusRegistered
	}
	what := strings.TrimSpace(onOff(catKey != c.CategoryKey, cat.Name, "") + " " + onOff(station != c.StationID, t.stationName(station), ""))
	tr.Events = append([]lianxin.Event{{Type: lianxin.EventRerouted, Actor: a.Actor.Ref(), Text: strings.TrimSpace(what + " " + a.Text)}}, asg.Events...)
	idem := t.idem("reroute", c)
	for i := range asg.Notices {
		asg.Notices[i].IdemKey = idem + ":" + asg.Notices[i].IdemKey
	}
	tr.Notices = asg.Notices
	return t.st.Transition(t.ctx, tr)
}

// consoleMerge closes the case as a duplicate of another (still open) one
// in the user's scope; both residents are told, in one transaction.
func (t *turn) consoleMerge(c *lianxin.Case) (*lianxin.Case, error) {
	a := t.console
	if !c.Status.Open() {
		return nil, lianxin.Errorf(lianxin.ECONFLICT, "case %s is %s", c.Number, c.Status)
	}
	other, err := t.e.cfg.Casework.CaseInScope(t.ctx, a.Scope, a.Duplicate)
	if err != nil {
		return nil, err
	}
	if other.ID == c.ID || other.MergedInto != "" {
		return nil, lianxin.Errorf(lianxin.EINVALID, "cannot merge %s into %s", c.Number, other.Number)
	}
	tr := t.change(c)
	tr.Status, tr.MergedInto = lianxin.StatusCancelled, other.Number
	tr.Events = []lianxin.Event{{Type: lianxin.EventMerged, Actor: a.Actor.Ref(), Text: other.Number, Audience: lianxin.AudienceResident}}
	idem := t.idem("merge", c)
	if c.OpenID != "" {
		tr.Notices = append(tr.Notices, t.notice(idem+":resident", c.OpenID,
			t.txt("notify_merged_resident", "number", c.Number, "other", other.Number), t.txt("notify_resident_title"), c, ""))
	}
	rel := lianxin.Transition{CaseID: other.ID, From: lianxin.OpenStatuses, Scope: &a.Scope,
		Events: []lianxin.Event{{Type: lianxin.EventDuplicate, Actor: a.Actor.Ref(), Text: c.Number}}}
	if other.OpenID != "" && other.OpenID != c.OpenID {
		rel.Notices = append(rel.Notices, t.notice(idem+":other", other.OpenID,
			t.txt("notify_merged_other", "number", other.Number, "other", c.Number), t.txt("notify_resident_title"), other, ""))
	}
	tr.Related = &rel
	return t.st.Transition(t.ctx, tr)
}

// Register registers a case staff took down at the station (a walk-in or
// a call): routed, assigned and supervised like a chat report, audited.
func (e *Engine) Register(ctx context.Context, r lianxin.Report, actor lianxin.User, addr string) (*lianxin.Case, error) {
	a := &lianxin.CaseAction{Actor: actor, Addr: addr}
	t := e.consoleTurn(ctx, a)
	if _, ok := t.cats.ByKey(r.Category.Key); !ok {
		return nil, lianxin.Errorf(lianxin.EINVALID, "no category %q", r.Category.Key)
	}
	r.Category, _ = t.cats.ByKey(r.Category.Key)
	if r.StationID == "" {
		if id, why, ok := t.dir.RouteStation(r.Location, ""); ok {
			r.StationID, r.StationReason = id, why
		}
	}
	if g, ok := t.dir.GridAt(r.Location); ok && r.GridID == "" {
		r.GridID = g.ID
	}
	events := []lianxin.Event{{Type: lianxin.EventCreated, Actor: actor.Ref(), Audience: lianxin.AudienceResident}}
	if r.StationID != "" {
		reason := r.StationReason
		if reason == "" {
			reason = t.txt("reason_staff_registered", "unit", t.stationName(r.StationID))
		}
		events = append(events, lianxin.Event{Type: lianxin.EventRouted, Actor: actor.Ref(), Text: reason})
	}
	r.Audit = []lianxin.AuditEntry{{Actor: actor.Ref(), Action: "register", Detail: r.Source, Addr: addr}}
	c, _, err := t.st.CreateCase(ctx, e.cfg.Numbering, r, events, nil, t.assigner(r, nil, "told_assigned", len(r.Attachments)))
	return c, err
}

// ReassignFrom routes the open cases of a deputy who left (deactivated in
// the directory) to colleagues by the normal rules, never back to them;
// each is one transaction with its timeline entry, notices and audit
// entry. It returns how many cases moved.
func (e *Engine) ReassignFrom(ctx context.Context, deputyID string, actor lianxin.User, addr string) (int, error) {
	cases, err := e.cfg.Store.Cases(ctx, lianxin.CaseFilter{AssigneeID: deputyID, Status: lianxin.OpenStatuses, Limit: 10000})
	if err != nil {
		return 0, err
	}
	moved := 0
	for i := range cases {
		c := &cases[i]
		a := &lianxin.CaseAction{Verb: "reassign", Number: c.Number, Actor: actor, Scope: lianxin.Scope{All: true}, Addr: addr,
			IdemKey: "leave:" + deputyID}
		t := e.consoleTurn(ctx, a)
		cat, _ := t.cats.ByKey(c.CategoryKey)
		r := lianxin.Report{Category: cat, Description: c.Description, Location: c.Location, StationID: c.StationID, OpenID: c.OpenID, Phone: c.Phone}
		photos, _, _ := mediaCounts(c)
		asg, err := t.assigner(r, []string{deputyID}, "told_reassigned", photos)(e.cfg.Store.AssignView(), c.Number)
		if err != nil {
			return moved, err
		}
		assignee := c.AssigneeID
		tr := lianxin.Transition{CaseID: c.ID, From: lianxin.OpenStatuses, FromAssignee: &assignee, Assignee: &asg.AssigneeID}
		if asg.NeedsStaff {
			staff := true
			tr.NeedsStaff = &staff
		}
		if c.Status != lianxin.StatusReopened {
			tr.Status = lianxin.StatusRegistered
		}
		tr.Events = append([]lianxin.Event{{Type: lianxin.EventRerouted, Actor: actor.Ref(), Text: t.txt("reason_deputy_left", "deputy", deputyName(t.dir, deputyID))}}, asg.Events...)
		idem := t.idem("leave", c)
		for j := range asg.Notices {
			asg.Notices[j].IdemKey = idem + ":" + asg.Notices[j].IdemKey
		}
		tr.Notices = asg.Notices
		tr.Audit = []lianxin.AuditEntry{{Actor: actor.Ref(), Action: "reassign", Subject: c.Number, Detail: deputyID + " → " + asg.AssigneeID, Addr: addr}}
		if _, err := t.st.Transition(ctx, tr); lianxin.ErrorCode(err) == lianxin.ECONFLICT {
			continue // moved meanwhile by someone else
		} else if err != nil {
			return moved, err
		}
		moved++
	}
	return moved, nil
}

func deputyName(dir *lianxin.Directory, id string) string {
	if d, ok := dir.Deputy(id); ok {
		return d.Name
	}
	return id
}
