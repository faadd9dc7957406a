package flows

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lianxin/lianxin"
)

// Deputies act from chat with one-line commands: a verb, a case number (the
// short form "7" is enough) and, for most verbs, their words. The table is
// the one place a verb is spelled: parsing, what each may act on, how
// replies name it and what it does.
type deputyVerb struct {
	word string // what the deputy types
	// nameKey is the messages.yaml key replies name the verb by ("" for
	// verbs that change nothing).
	nameKey string
	// needsText: the verb carries the deputy's words (答复 7 内容);
	// example is the messages.yaml key of what such words look like.
	needsText bool
	example   string
	// acceptOnly: the verb takes a case up, so only a case waiting to be
	// taken up may be its object; the others act on any open case.
	acceptOnly bool
	// do acts on a case the deputy may act on, in a state the verb allows.
	do func(t *turn, d lianxin.Deputy, c *lianxin.Case, text, idem string) (string, error)
}

var deputyVerbs = []deputyVerb{
	{word: "我的"},
	{word: "详情", do: (*turn).detailVerb},
	{word: "受理", nameKey: "verb_accept", acceptOnly: true, do: (*turn).acceptVerb},
	{word: "答复", nameKey: "verb_answer", needsText: true, example: "example_answer", do: (*turn).answerVerb},
	// 转办 without a department lists them (forwardVerb), so it takes no text check.
	{word: "转办", nameKey: "verb_forward", do: (*turn).forwardVerb},
	{word: "进展", nameKey: "verb_progress", needsText: true, example: "example_progress", do: (*turn).progressVerb},
	{word: "办结", nameKey: "verb_resolve", needsText: true, example: "example_resolve", do: (*turn).resolveVerb},
	{word: "退回", nameKey: "verb_return", needsText: true, example: "example_return", do: (*turn).returnCase},
}

// deputyHelpWords show a deputy their command list, whatever they are doing.
var deputyHelpWords = set("命令", "代表命令", "办理命令", "指令")

func verbNamed(word string) (deputyVerb, bool) {
	for _, v := range deputyVerbs {
		if v.word == word {
			return v, true
		}
	}
	return deputyVerb{}, false
}

const bindVerb = "绑定"

var (
	fullNumber = regexp.MustCompile(`^[A-Za-z]{1,8}\d{8}-\d{1,6}$`)
	digitsRef  = regexp.MustCompile(`^(\d{8}-)?\d{1,6}$`)
)

// deputyCommand splits "受理 7 已联系" into verb, case reference and text.
// ok is false when the message does not start with a deputy verb. The
// reference may be glued to the verb or the words ("受理7"), and typed with
// full-width digits.
func deputyCommand(text string) (verb, ref, rest string, ok bool) {
	s := strings.TrimSpace(text)
	words := []string{bindVerb}
	for _, v := range deputyVerbs {
		words = append(words, v.word)
	}
	for _, v := range words {
		if after, found := strings.CutPrefix(s, v); found {
			verb, s, ok = v, strings.TrimLeft(after, " \t:：,，"), true
			break
		}
	}
	if !ok {
		return "", "", "", false
	}
	var b strings.Builder
	i := 0
	for j, orig := range s {
		r := orig
		if r >= 0xFF01 && r <= 0xFF5E { // full-width ASCII
			r -= 0xFEE0
		}
		if !(r >= '0' && r <= '9' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			break
		}
		b.WriteRune(r)
		i = j + utf8.RuneLen(orig)
	}
	return verb, strings.ToUpper(b.String()), strings.TrimLeft(strings.TrimSpace(s[i:]), ":：,，"), true
}

// deputyTurn handles binding and deputy commands. A command is a command
// word and a case reference ("受理 7", "办结7 已修好"); 我的 is one on its
// own. Anything else a deputy writes («我的暖气也坏了», «进展怎么样了») is
// their own chat as a resident, and goes to the resident conversation
// (handled false). 命令, and 帮助 outside a report, show a deputy their
// commands; a bare command word asks for the case.
func (t *turn) deputyTurn() (reply string, handled bool, err error) {
	if t.m.Kind != lianxin.KindText {
		return "", false, nil
	}
	verb, ref, rest, ok := deputyCommand(t.m.Text)
	if !ok {
		return t.deputyHelp()
	}
	if verb == bindVerb {
		if ref == "" || !digitsRef.MatchString(ref) {
			return "", false, nil
		}
		return t.bind(ref), true, nil
	}
	bare := ref == "" && rest == ""
	if ref == "" && !bare {
		return "", false, nil // a word that starts like a command, in a sentence
	}
	d, isDeputy, err := t.e.cfg.Store.DeputyByOpenID(t.ctx, t.m.OpenID)
	if err != nil || !isDeputy {
		return "", false, err
	}
	if verb == "我的" {
		if !bare {
			return "", false, nil
		}
		r, err := t.deputyCases(d)
		return r, true, err
	}
	if bare {
		return t.txt("deputy_need_case", "verb", verb), true, nil
	}
	c, problem, err := t.findCase(d, ref)
	if err != nil || problem != "" {
		return problem, true, err
	}
	if !t.canAct(d, c) {
		return t.notYours(c), true, nil
	}
	r, err := t.act(d, c, verb, rest)
	if lianxin.ErrorCode(err) == lianxin.ECONFLICT {
		return t.txt("deputy_conflict", "number", c.Number, "short", lianxin.ShortNumber(c.Number)), true, nil
	}
	return r, true, err
}

// deputyHelp answers a deputy's 命令 (anywhere) and 帮助 (outside a
// report, where 帮助 explains the step and says how to see the commands).
func (t *turn) deputyHelp() (string, bool, error) {
	w := normalizeReply(t.m.Text)
	if !deputyHelpWords[w] && !wordsHelp[w] {
		return "", false, nil
	}
	if _, isDeputy, err := t.e.cfg.Store.DeputyByOpenID(t.ctx, t.m.OpenID); err != nil || !isDeputy {
		return "", false, err
	}
	inReport := t.s.inFlow() && !t.s.Paused
	switch {
	case deputyHelpWords[w] && inReport:
		return join(t.txt("deputy_help"), t.short()), true, nil
	case deputyHelpWords[w] || !inReport:
		return join(t.txt("deputy_help"), t.txt("deputy_help_resident")), true, nil
	}
	st := t.current()
	return join(st.Help, t.txt("deputy_help_hint"), t.prompt()), true, nil
}

// notYours says whose case it is to a deputy who may not act on it.
func (t *turn) notYours(c *lianxin.Case) string {
	owner := t.txt("owner_staff")
	if d, ok := t.dir.Deputy(c.AssigneeID); ok {
		owner = t.txt("owner_deputy", "name", d.Name)
	}
	return t.txt("deputy_not_yours", "number", c.Number, "owner", owner)
}

func (t *turn) bind(code string) string {
	if reply, ok := t.bindGrid(code); ok {
		return reply
	}
	d, err := t.st.Bind(t.ctx, code, t.m.OpenID)
	switch {
	case errors.Is(err, lianxin.ErrTooManyTries):
		return t.txt("bind_locked")
	case errors.Is(err, lianxin.ErrBadCode):
		return t.txt("bind_bad")
	case err != nil:
		t.e.log.Error("binding failed", "err", err)
		return t.txt("error")
	}
	role := t.txt("role_deputy")
	if d.Head {
		role = t.txt("role_head")
	}
	reply := t.txt("bind_ok", "name", d.Name, "station", t.stationName(d.StationID), "role", role, "help", t.txt("deputy_help"))
	// Notices queued before they bound were dropped with the binding:
	// one line sums up what is waiting for them instead.
	open, err := t.e.cfg.Store.Cases(t.ctx, lianxin.CaseFilter{AssigneeID: d.ID, Status: lianxin.OpenStatuses, Limit: 500})
	if err != nil {
		t.e.log.Error("counting a deputy's open cases failed", "err", err)
	} else if len(open) > 0 {
		reply = join(reply, t.txt("bind_backlog", "count", itoa(len(open))))
	}
	return reply
}

// headOf reports whether d heads the unit or the station it belongs to.
func (t *turn) headOf(d lianxin.Deputy, unitID string) bool {
	if !d.Head {
		return false
	}
	if d.StationID == unitID {
		return true
	}
	unit, ok := t.dir.Station(unitID)
	return ok && unit.Kind == lianxin.PointKind && unit.Parent == d.StationID
}

func (t *turn) canAct(d lianxin.Deputy, c *lianxin.Case) bool {
	return c.AssigneeID == d.ID || t.headOf(d, c.StationID)
}

// deputyScope is the cases a deputy may refer to by short number: theirs,
// and their station's (points included). Finding a colleague's case lets
// the reply say whose it is rather than "not found".
func (t *turn) deputyScope(d lianxin.Deputy) ([]lianxin.Case, error) {
	cases, err := t.e.cfg.Store.Cases(t.ctx, lianxin.CaseFilter{AssigneeID: d.ID, Limit: 500})
	if err != nil {
		return nil, err
	}
	st, ok := t.dir.StationOf(d.StationID)
	if !ok {
		return cases, nil
	}
	units := []string{st.ID}
	for _, p := range t.dir.Points(st.ID) {
		units = append(units, p.ID)
	}
	for _, u := range units {
		more, err := t.e.cfg.Store.Cases(t.ctx, lianxin.CaseFilter{StationID: u, Limit: 500})
		if err != nil {
			return nil, err
		}
		for _, c := range more {
			if !slices.ContainsFunc(cases, func(x lianxin.Case) bool { return x.ID == c.ID }) {
				cases = append(cases, c)
			}
		}
	}
	return cases, nil
}

// findCase resolves a full or short case number. problem is the reply when
// it cannot be resolved to exactly one case.
func (t *turn) findCase(d lianxin.Deputy, ref string) (*lianxin.Case, string, error) {
	if fullNumber.MatchString(ref) {
		c, err := t.e.cfg.Store.Case(t.ctx, ref)
		if lianxin.ErrorCode(err) == lianxin.ENOTFOUND {
			return nil, t.txt("deputy_case_unknown", "ref", ref), nil
		}
		return c, "", err
	}
	if !digitsRef.MatchString(ref) {
		return nil, t.txt("deputy_case_unknown", "ref", ref), nil
	}
	scope, err := t.deputyScope(d)
	if err != nil {
		return nil, "", err
	}
	matches := matchShort(scope, ref)
	switch len(matches) {
	case 0:
		return nil, t.txt("deputy_case_unknown", "ref", ref), nil
	case 1:
		c, err := t.e.cfg.Store.Case(t.ctx, matches[0].Number)
		return c, "", err
	}
	return nil, t.txt("deputy_case_ambiguous", "ref", ref, "example", matches[0].Number), nil
}

func (t *turn) slaText(c *lianxin.Case) string {
	cat, _ := t.cats.ByKey(c.CategoryKey)
	s := c.SLA(t.now, t.e.cfg.RemindAt, cat)
	if s == "" {
		return ""
	}
	return t.txt("sla_" + string(s))
}

func (t *turn) deputyCases(d lianxin.Deputy) (string, error) {
	cases, err := t.e.cfg.Store.Cases(t.ctx, lianxin.CaseFilter{AssigneeID: d.ID, Limit: 50,
		Status: []lianxin.Status{lianxin.StatusRegistered, lianxin.StatusAccepted, lianxin.StatusForwarded, lianxin.StatusReopened}})
	if err != nil {
		return "", err
	}
	if len(cases) == 0 {
		return t.txt("deputy_my_empty"), nil
	}
	lines := make([]string, len(cases))
	for i := range cases {
		c := &cases[i]
		cat, _ := t.cats.ByKey(c.CategoryKey)
		lines[i] = strings.TrimSpace(t.txt("deputy_case_line", "number", c.Number, "category", cat.Name,
			"status", t.txt("status_"+string(c.Status)), "sla", t.slaText(c)))
	}
	return t.txt("deputy_my", "count", itoa(len(cases)), "cases", strings.Join(lines, "\n")), nil
}

func (t *turn) deputyDetail(c *lianxin.Case) string {
	cat, _ := t.cats.ByKey(c.CategoryKey)
	loc := t.e.cfg.Numbering.Location
	accept, resolve := t.txt("none"), t.txt("none")
	if c.AcceptDue != nil {
		accept = c.AcceptDue.In(loc).Format("01-02 15:04")
	}
	if c.ResolveDue != nil {
		resolve = c.ResolveDue.In(loc).Format("01-02 15:04")
	}
	phone := t.txt("no_phone")
	switch {
	case c.Anonymous:
		phone = t.txt("anonymous_phone") // the resident asked to stay anonymous to the deputy
	case c.Phone != "":
		phone = c.Phone // the deputy handling it may call the resident
	}
	n, voices, failed := mediaCounts(c)
	photos := t.txt("detail_photos", "count", itoa(n))
	if failed > 0 {
		photos = t.txt("detail_photos_failed", "count", itoa(n), "failed", itoa(failed))
	}
	if voices > 0 {
		photos += t.txt("detail_voices", "count", itoa(voices))
	}
	place := c.Location.String()
	if place == "" {
		place = t.txt("none")
	}
	lines := make([]string, 0, len(c.Events))
	for _, ev := range c.Events {
		line := ev.At.In(loc).Format("01-02 15:04") + " " + t.txt("event_"+ev.Type, "station", t.stationName(c.StationID))
		if ev.Text != "" && ev.Type != lianxin.EventRouted {
			line += "：" + ev.Text
		}
		lines = append(lines, line)
	}
	return join(strings.TrimSpace(t.txt("deputy_detail", "number", c.Number, "category", cat.Name, "status", t.txt("status_"+string(c.Status)),
		"sla", t.slaText(c), "description", c.Description, "place", place, "station", t.stationName(c.StationID), "phone", phone,
		"photos", photos, "accept_due", accept, "resolve_due", resolve, "timeline", strings.Join(lines, "\n"))), t.residentsLine(c))
}

// act carries out a deputy's command on a case they may act on.
func (t *turn) act(d lianxin.Deputy, c *lianxin.Case, word, text string) (string, error) {
	v, _ := verbNamed(word)
	if v.nameKey != "" && (!c.Status.Open() || (v.acceptOnly && c.Status != lianxin.StatusRegistered && c.Status != lianxin.StatusReopened)) {
		return t.txt("deputy_wrong_status", "number", c.Number, "status", t.txt("status_"+string(c.Status)), "verb", t.txt(v.nameKey)), nil
	}
	if v.needsText && text == "" {
		return t.txt("deputy_need_text", "verb", v.word, "short", lianxin.ShortNumber(c.Number), "example", t.txt(v.example)), nil
	}
	return v.do(t, d, c, text, t.idem("act", c))
}

// change is a deputy's transition of a case they saw as it is now: it
// applies only if nobody moved the case meanwhile.
func (t *turn) change(c *lianxin.Case) lianxin.Transition {
	assignee := c.AssigneeID
	tr := lianxin.Transition{CaseID: c.ID, From: lianxin.OpenStatuses, FromAssignee: &assignee}
	t.consoleChange(&tr, c)
	return tr
}

// tellResident adds the notice to the case's resident, in the words of key.
// A case registered at the station (a walk-in, a call) has no WeChat user
// to tell.
func (t *turn) tellResident(tr *lianxin.Transition, d lianxin.Deputy, c *lianxin.Case, idem, key string, pairs ...string) {
	if c.OpenID == "" {
		return
	}
	if t.console != nil && key == "notify_resident_answered" && t.console.Actor.Role != lianxin.RoleDeputy {
		key = "notify_resident_answered_staff"
	}
	body := t.txt(key, append([]string{"number", c.Number, "deputy", d.Name, "station", t.stationName(c.StationID)}, pairs...)...)
	tr.Notices = append(tr.Notices, t.notice(idem+":resident", c.OpenID, body, t.txt("notify_resident_title"), c, d.Name))
}

// detailVerb answers 详情 with the case as text, and queues its photos (as
// image messages) and voice (as voice) to follow it: sent through the
// outbox, which uploads each once, so nothing slow is on the webhook path.
func (t *turn) detailVerb(_ lianxin.Deputy, c *lianxin.Case, _, idem string) (string, error) {
	var media []lianxin.Notice
	for _, a := range c.Attachments {
		if a.Status == lianxin.AttachmentFailed || (a.Kind != lianxin.KindImage && a.Kind != lianxin.KindVoice) {
			continue
		}
		media = append(media, lianxin.Notice{IdemKey: fmt.Sprintf("%s:media:%d", idem, a.ID), Kind: lianxin.OutboxMedia,
			Recipient: t.m.OpenID, Payload: lianxin.MediaPayload{AttachmentID: a.ID}})
	}
	if len(media) == 0 {
		return t.deputyDetail(c), nil
	}
	if err := t.st.QueueNotices(t.ctx, c.ID, media); err != nil {
		return "", err
	}
	return join(t.deputyDetail(c), t.txt("detail_media_follow")), nil
}

// mediaCounts counts a case's photos and voice messages that arrived (or
// are on their way), and the photos that never did.
func mediaCounts(c *lianxin.Case) (photos, voices, failed int) {
	for _, a := range c.Attachments {
		switch {
		case a.Kind == lianxin.KindImage && a.Status == lianxin.AttachmentFailed:
			failed++
		case a.Kind == lianxin.KindImage:
			photos++
		case a.Kind == lianxin.KindVoice && a.Status != lianxin.AttachmentFailed:
			voices++
		}
	}
	return photos, voices, failed
}

func (t *turn) acceptVerb(d lianxin.Deputy, c *lianxin.Case, _, idem string) (string, error) {
	tr := t.change(c)
	tr.Status = lianxin.StatusAccepted
	tr.Events = []lianxin.Event{{Type: lianxin.EventAccepted, Actor: t.actorRef(d), Text: d.Name, Audience: lianxin.AudienceResident}}
	t.tellResident(&tr, d, c, idem, "notify_resident_accepted")
	resolve := t.txt("none")
	if c.ResolveDue != nil {
		resolve = c.ResolveDue.In(t.e.cfg.Numbering.Location).Format("01-02 15:04")
	}
	return t.apply(tr, t.txt("deputy_accepted", "number", c.Number, "resolve_due", resolve, "told", t.told(c)))
}

func (t *turn) answerVerb(d lianxin.Deputy, c *lianxin.Case, text, idem string) (string, error) {
	tr := t.change(c)
	if c.Status == lianxin.StatusRegistered || c.Status == lianxin.StatusReopened {
		tr.Status = lianxin.StatusAccepted // answering takes the case up
	}
	tr.Events = []lianxin.Event{{Type: lianxin.EventAnswered, Actor: t.actorRef(d), Text: text, Audience: lianxin.AudienceResident}}
	t.tellResident(&tr, d, c, idem, "notify_resident_answered", "text", text)
	return t.apply(tr, t.txt("deputy_answered", "number", c.Number, "told", t.told(c)))
}

func (t *turn) forwardVerb(d lianxin.Deputy, c *lianxin.Case, text, idem string) (string, error) {
	if strings.TrimSpace(text) == "" {
		return t.txt("deputy_need_dept", "short", lianxin.ShortNumber(c.Number), "departments", t.departmentList(t.dir.Departments)), nil
	}
	dept, note, found := t.department(text)
	switch {
	case len(found) > 1:
		return t.txt("deputy_dept_ambiguous", "dept", departmentName(text), "short", lianxin.ShortNumber(c.Number),
			"departments", t.departmentList(found)), nil
	case len(found) == 0:
		return t.txt("deputy_dept_unknown", "dept", departmentName(text), "departments", t.departmentList(t.dir.Departments)), nil
	}
	tr := t.change(c)
	tr.Status = lianxin.StatusForwarded
	tr.Events = []lianxin.Event{{Type: lianxin.EventForwarded, Actor: t.actorRef(d), Text: dept.Name, Audience: lianxin.AudienceResident}}
	if note != "" {
		// The deputy's words are for the department: staff see them, the
		// resident does not.
		tr.Events = append(tr.Events, lianxin.Event{Type: lianxin.EventNote, Actor: t.actorRef(d),
			Text: t.txt("note_to_department", "department", dept.Name, "text", note), Audience: lianxin.AudienceStaff})
	}
	t.tellResident(&tr, d, c, idem, "notify_resident_forwarded", "department", dept.Name)
	told := t.tellDepartment(&tr, dept, d, c, note, idem)
	contact := dept.Contact
	if contact == "" {
		contact = t.txt("none")
	}
	reply := t.txt("deputy_forwarded", "number", c.Number, "department", dept.Name, "contact", contact, "told", t.told(c))
	if told {
		reply = join(reply, t.txt("deputy_forwarded_told", "department", dept.Name))
	}
	return t.apply(tr, reply)
}

// tellDepartment queues the forwarded case for the department itself when
// it can be reached: its WeCom group robot, or its desk's WeChat.
func (t *turn) tellDepartment(tr *lianxin.Transition, dept lianxin.Department, d lianxin.Deputy, c *lianxin.Case, note, idem string) bool {
	if dept.RobotWebhook == "" && dept.OpenID == "" {
		return false
	}
	place := c.Location.String()
	if place == "" {
		place = t.txt("none")
	}
	if note == "" {
		note = t.txt("none")
	}
	body := t.txt("notify_department", "number", c.Number, "category", t.cats.Name(c.CategoryKey), "description", clip(c.Description, 300),
		"place", place, "deputy", d.Name, "station", t.stationName(c.StationID), "text", note)
	if dept.RobotWebhook != "" {
		tr.Notices = append(tr.Notices, lianxin.Notice{IdemKey: idem + ":department:robot", Kind: lianxin.OutboxRobot, Recipient: dept.RobotWebhook,
			Payload: lianxin.RobotPayload{MsgType: "text", Content: body}})
	}
	if dept.OpenID != "" {
		tr.Notices = append(tr.Notices, t.notice(idem+":department:wechat", dept.OpenID, body, t.txt("notify_department_title"), c, d.Name))
	}
	tr.Events = append(tr.Events, lianxin.Event{Type: lianxin.EventNote, Actor: "system",
		Text: t.txt("department_told", "department", dept.Name), Audience: lianxin.AudienceStaff})
	return true
}

func (t *turn) progressVerb(d lianxin.Deputy, c *lianxin.Case, text, idem string) (string, error) {
	tr := t.change(c)
	tr.Events = []lianxin.Event{{Type: lianxin.EventProgress, Actor: t.actorRef(d), Text: text, Audience: lianxin.AudienceResident}}
	t.tellResident(&tr, d, c, idem, "notify_resident_progress", "text", text)
	return t.apply(tr, t.txt("deputy_progress", "number", c.Number, "told", t.told(c)))
}

func (t *turn) resolveVerb(d lianxin.Deputy, c *lianxin.Case, text, idem string) (string, error) {
	tr := t.change(c)
	tr.Status = lianxin.StatusResolved
	tr.Events = []lianxin.Event{{Type: lianxin.EventResolved, Actor: t.actorRef(d), Text: text, Audience: lianxin.AudienceResident}}
	t.tellResident(&tr, d, c, idem, "notify_resident_resolved", "text", text)
	return t.apply(tr, t.txt("deputy_resolved", "number", c.Number, "told", t.told(c)))
}

// told says, for a deputy's reply, what becomes of the notice to the
// case's resident: «已通知群众» only when it can reach them and notices are
// going out; otherwise what will happen, with the resident's phone where
// that is the way to reach them.
func (t *turn) told(c *lianxin.Case) string {
	phone := c.Phone
	if phone == "" {
		phone = t.txt("no_phone")
	}
	if c.OpenID == "" {
		return t.txt("told_nobody", "phone", phone)
	}
	r, err := t.e.cfg.Store.ResidentStatus(t.ctx, c.OpenID)
	if err != nil {
		t.e.log.Warn("reading the resident's status failed", "err", err)
	}
	switch {
	case r.Known && !r.Subscribed:
		return t.txt("told_unsubscribed", "phone", phone)
	case r.Known && t.now.Sub(r.LastInbound) > lianxin.ServiceWindow && t.e.cfg.Notify.TemplateID == "":
		return t.txt("told_window", "phone", phone)
	case t.e.cfg.Delivery != nil && !t.e.cfg.Delivery():
		return t.txt("told_queued")
	}
	return t.txt("told_resident")
}

// apply writes the transition and, once it is in, gives the deputy reply.
func (t *turn) apply(tr lianxin.Transition, reply string) (string, error) {
	if _, err := t.st.Transition(t.ctx, tr); err != nil {
		return "", err
	}
	return reply, nil
}

// returnCase re-routes a case its deputy says is not theirs (退回), to
// another deputy of the station, never back to one who returned it.
func (t *turn) returnCase(d lianxin.Deputy, c *lianxin.Case, reason, idem string) (string, error) {
	returned, err := t.e.cfg.Store.ReturnedBy(t.ctx, c.ID)
	if err != nil {
		return "", err
	}
	exclude := []string{d.ID, c.AssigneeID}
	for _, a := range returned {
		exclude = append(exclude, strings.TrimPrefix(a, "deputy:"))
	}
	cat, _ := t.cats.ByKey(c.CategoryKey)
	r := lianxin.Report{Category: cat, Description: c.Description, Location: c.Location, StationID: c.StationID, OpenID: c.OpenID, Phone: c.Phone}
	photos, _, _ := mediaCounts(c)
	a, err := t.assigner(r, exclude, "told_reassigned", photos)(t.e.cfg.Store.AssignView(), c.Number)
	if err != nil {
		return "", err
	}
	tr := t.change(c)
	tr.Status, tr.Assignee = lianxin.StatusRegistered, &a.AssigneeID
	tr.Events = append([]lianxin.Event{{Type: lianxin.EventReturned, Actor: t.actorRef(d), Text: reason, Audience: lianxin.AudienceStaff}}, a.Events...)
	for i := range a.Notices {
		a.Notices[i].IdemKey = idem + ":" + a.Notices[i].IdemKey
	}
	tr.Notices = a.Notices
	// The resident was told who has their case; they are told who has it
	// now, in their words, never why it moved (the staff queue's assignment
	// tells them itself, with who will contact them and when).
	if a.NeedsStaff {
		staff := true
		tr.NeedsStaff = &staff
	} else {
		next, _ := t.dir.Deputy(a.AssigneeID)
		t.tellResident(&tr, next, c, idem, "notify_resident_reassigned")
	}
	if _, err := t.st.Transition(t.ctx, tr); err != nil {
		return "", err
	}
	if a.AssigneeID == "" {
		return t.txt("deputy_returned_queue", "number", c.Number), nil
	}
	next, _ := t.dir.Deputy(a.AssigneeID)
	return t.txt("deputy_returned", "number", c.Number, "deputy", next.Name), nil
}

// department finds the department a 转办 names ("供热站 请尽快",
// "heating_company", "供热站　请尽快" with a full-width space) and returns it
// with the rest of the text as the note. found lists every department the
// name fits: exactly one is the department; more must be told apart.
func (t *turn) department(text string) (dept lianxin.Department, note string, found []lianxin.Department) {
	name := departmentName(text)
	note = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(text)[len(name):], " \t\u3000,，:："))
	if name == "" {
		return lianxin.Department{}, "", nil
	}
	for _, dep := range t.dir.Departments {
		if dep.ID == name || dep.Name == name {
			return dep, note, []lianxin.Department{dep}
		}
	}
	for _, dep := range t.dir.Departments {
		if strings.Contains(dep.Name, name) || strings.Contains(name, dep.Name) || sharedPrefix(dep.Name, name) >= 2 {
			found = append(found, dep)
		}
	}
	if len(found) == 1 {
		return found[0], note, found
	}
	return lianxin.Department{}, "", found
}

// departmentName is the department a 转办's text starts with: up to the
// first space (either width), comma or colon.
func departmentName(text string) string {
	s := strings.TrimSpace(text)
	if i := strings.IndexAny(s, " \t\u3000,，:："); i >= 0 {
		return s[:i]
	}
	return s
}

// sharedPrefix counts the runes two department names share at the start,
// with or without the administrative area they begin with: deputies type
// 供热站 for 矿区供热站(供热公司), but 市政 must still find 市政道路养护所.
func sharedPrefix(a, b string) int {
	return max(commonRunes(a, b), commonRunes(dropArea(a), dropArea(b)))
}

// areaPrefix is a leading administrative area: 区, 矿区, 阳泉市, 某某县.
var areaPrefix = regexp.MustCompile(`^\p{Han}{0,3}?[区市县]`)

// dropArea removes up to two leading areas (阳泉市矿区…).
func dropArea(s string) string {
	for range 2 {
		s = areaPrefix.ReplaceAllString(s, "")
	}
	return s
}

func commonRunes(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	n := 0
	for n < len(ra) && n < len(rb) && ra[n] == rb[n] {
		n++
	}
	return n
}

func (t *turn) departmentList(deps []lianxin.Department) string {
	names := make([]string, len(deps))
	for i, d := range deps {
		names[i] = d.Name
	}
	return strings.Join(names, "、")
}
