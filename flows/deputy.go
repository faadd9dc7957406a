package flows

import (
	"errors"
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
	// needsText: the verb carries the deputy's words (答复 7 内容).
	needsText bool
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
	{word: "答复", nameKey: "verb_answer", needsText: true, do: (*turn).answerVerb},
	{word: "转办", nameKey: "verb_forward", needsText: true, do: (*turn).forwardVerb},
	{word: "进展", nameKey: "verb_progress", needsText: true, do: (*turn).progressVerb},
	{word: "办结", nameKey: "verb_resolve", needsText: true, do: (*turn).resolveVerb},
	{word: "退回", nameKey: "verb_return", needsText: true, do: (*turn).returnCase},
}

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

// deputyTurn handles binding and deputy commands. handled is false for
// anything else, which then goes to the resident conversation.
func (t *turn) deputyTurn() (reply string, handled bool, err error) {
	if t.m.Kind != lianxin.KindText {
		return "", false, nil
	}
	verb, ref, rest, ok := deputyCommand(t.m.Text)
	if !ok {
		return "", false, nil
	}
	if verb == bindVerb {
		if ref == "" || !digitsRef.MatchString(ref) {
			return "", false, nil
		}
		return t.bind(ref), true, nil
	}
	d, isDeputy, err := t.e.cfg.Store.DeputyByOpenID(t.ctx, t.m.OpenID)
	if err != nil || !isDeputy {
		return "", false, err
	}
	if verb == "我的" {
		if ref != "" {
			return "", false, nil
		}
		r, err := t.deputyCases(d)
		return r, true, err
	}
	if ref == "" {
		return t.txt("deputy_need_case", "verb", verb), true, nil
	}
	c, problem, err := t.findCase(d, ref)
	if err != nil || problem != "" {
		return problem, true, err
	}
	if !t.canAct(d, c) {
		return t.txt("deputy_not_yours", "number", c.Number), true, nil
	}
	r, err := t.act(d, c, verb, rest)
	if lianxin.ErrorCode(err) == lianxin.ECONFLICT {
		return t.txt("deputy_conflict", "number", c.Number, "short", lianxin.ShortNumber(c.Number)), true, nil
	}
	return r, true, err
}

func (t *turn) bind(code string) string {
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
	return t.txt("bind_ok", "name", d.Name, "station", t.stationName(d.StationID), "role", role, "help", t.txt("deputy_help"))
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
	// "7" is the 7th case of some day; "20261127-7" of that day.
	day, seq, hasDay := strings.Cut(ref, "-")
	if !hasDay {
		seq, day = day, ""
	}
	want := strings.TrimLeft(seq, "0")
	var matches []lianxin.Case
	for _, c := range scope {
		if lianxin.ShortNumber(c.Number) == want && (day == "" || strings.Contains(c.Number, day+"-")) {
			matches = append(matches, c)
		}
	}
	// Prefer open cases: "受理 7" means the 7 still being handled.
	if len(matches) > 1 {
		open := slices.DeleteFunc(slices.Clone(matches), func(c lianxin.Case) bool { return !c.Status.Open() })
		if len(open) >= 1 {
			matches = open
		}
	}
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
	if c.Phone != "" {
		phone = c.Phone // the deputy handling it may call the resident
	}
	photos := 0
	for _, a := range c.Attachments {
		if a.Kind == lianxin.KindImage {
			photos++
		}
	}
	place := c.Location.String()
	if place == "" {
		place = t.txt("none")
	}
	lines := make([]string, 0, len(c.Events))
	for _, ev := range c.Events {
		line := ev.At.In(loc).Format("01-02 15:04") + " " + t.txt("event_"+ev.Type, "station", t.stationName(c.StationID))
		if ev.Text != "" && ev.Type != lianxin.EventRouted {
			line += ":" + ev.Text
		}
		lines = append(lines, line)
	}
	return strings.TrimSpace(t.txt("deputy_detail", "number", c.Number, "category", cat.Name, "status", t.txt("status_"+string(c.Status)),
		"sla", t.slaText(c), "description", c.Description, "place", place, "station", t.stationName(c.StationID), "phone", phone,
		"photos", itoa(photos), "accept_due", accept, "resolve_due", resolve, "timeline", strings.Join(lines, "\n")))
}

// act carries out a deputy's command on a case they may act on.
func (t *turn) act(d lianxin.Deputy, c *lianxin.Case, word, text string) (string, error) {
	v, _ := verbNamed(word)
	if v.nameKey != "" && (!c.Status.Open() || (v.acceptOnly && c.Status != lianxin.StatusRegistered && c.Status != lianxin.StatusReopened)) {
		return t.txt("deputy_wrong_status", "number", c.Number, "status", t.txt("status_"+string(c.Status)), "verb", t.txt(v.nameKey)), nil
	}
	if v.needsText && text == "" {
		return t.txt("deputy_need_text", "verb", v.word, "short", lianxin.ShortNumber(c.Number)), nil
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

func (t *turn) detailVerb(_ lianxin.Deputy, c *lianxin.Case, _, _ string) (string, error) {
	return t.deputyDetail(c), nil
}

func (t *turn) acceptVerb(d lianxin.Deputy, c *lianxin.Case, _, idem string) (string, error) {
	tr := t.change(c)
	tr.Status = lianxin.StatusAccepted
	tr.Events = []lianxin.Event{{Type: lianxin.EventAccepted, Actor: t.actorRef(d), Text: d.Name}}
	t.tellResident(&tr, d, c, idem, "notify_resident_accepted")
	resolve := t.txt("none")
	if c.ResolveDue != nil {
		resolve = c.ResolveDue.In(t.e.cfg.Numbering.Location).Format("01-02 15:04")
	}
	return t.apply(tr, t.txt("deputy_accepted", "number", c.Number, "resolve_due", resolve))
}

func (t *turn) answerVerb(d lianxin.Deputy, c *lianxin.Case, text, idem string) (string, error) {
	tr := t.change(c)
	if c.Status == lianxin.StatusRegistered || c.Status == lianxin.StatusReopened {
		tr.Status = lianxin.StatusAccepted // answering takes the case up
	}
	tr.Events = []lianxin.Event{{Type: lianxin.EventAnswered, Actor: t.actorRef(d), Text: text}}
	t.tellResident(&tr, d, c, idem, "notify_resident_answered", "text", text)
	return t.apply(tr, t.txt("deputy_answered", "number", c.Number))
}

func (t *turn) forwardVerb(d lianxin.Deputy, c *lianxin.Case, text, idem string) (string, error) {
	dept, note, ok := t.department(text)
	if !ok {
		key := "deputy_dept_unknown"
		if strings.TrimSpace(text) == "" {
			key = "deputy_need_dept"
		}
		return t.txt(key, "dept", text, "short", lianxin.ShortNumber(c.Number), "departments", t.departmentList()), nil
	}
	tr := t.change(c)
	tr.Status = lianxin.StatusForwarded
	tr.Events = []lianxin.Event{{Type: lianxin.EventForwarded, Actor: t.actorRef(d), Text: strings.TrimSpace(dept.Name + " " + note)}}
	t.tellResident(&tr, d, c, idem, "notify_resident_forwarded", "department", dept.Name, "text", note)
	contact := dept.Contact
	if contact == "" {
		contact = t.txt("none")
	}
	return t.apply(tr, t.txt("deputy_forwarded", "number", c.Number, "department", dept.Name, "contact", contact))
}

func (t *turn) progressVerb(d lianxin.Deputy, c *lianxin.Case, text, idem string) (string, error) {
	tr := t.change(c)
	tr.Events = []lianxin.Event{{Type: lianxin.EventProgress, Actor: t.actorRef(d), Text: text}}
	t.tellResident(&tr, d, c, idem, "notify_resident_progress", "text", text)
	return t.apply(tr, t.txt("deputy_progress", "number", c.Number))
}

func (t *turn) resolveVerb(d lianxin.Deputy, c *lianxin.Case, text, idem string) (string, error) {
	tr := t.change(c)
	tr.Status = lianxin.StatusResolved
	tr.Events = []lianxin.Event{{Type: lianxin.EventResolved, Actor: t.actorRef(d), Text: text}}
	t.tellResident(&tr, d, c, idem, "notify_resident_resolved", "text", text)
	return t.apply(tr, t.txt("deputy_resolved", "number", c.Number))
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
	r := lianxin.Report{Category: cat, Description: c.Description, Location: c.Location, StationID: c.StationID}
	a, err := t.assigner(r, exclude)(t.e.cfg.Store.AssignView(), c.Number)
	if err != nil {
		return "", err
	}
	tr := t.change(c)
	tr.Status, tr.Assignee = lianxin.StatusRegistered, &a.AssigneeID
	tr.Events = append([]lianxin.Event{{Type: lianxin.EventReturned, Actor: t.actorRef(d), Text: reason}}, a.Events...)
	for i := range a.Notices {
		a.Notices[i].IdemKey = idem + ":" + a.Notices[i].IdemKey
	}
	tr.Notices = a.Notices
	if a.NeedsStaff {
		staff := true
		tr.NeedsStaff = &staff
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

// department finds the department a 转办 names ("供热站 请尽快", "heating_company")
// and returns it with the rest of the text as the note.
func (t *turn) department(text string) (lianxin.Department, string, bool) {
	name, note, _ := strings.Cut(strings.TrimSpace(text), " ")
	if name == "" {
		return lianxin.Department{}, "", false
	}
	for _, dep := range t.dir.Departments {
		if dep.ID == name || dep.Name == name {
			return dep, strings.TrimSpace(note), true
		}
	}
	var found []lianxin.Department
	for _, dep := range t.dir.Departments {
		if strings.Contains(dep.Name, name) || strings.Contains(name, dep.Name) || sharedPrefix(dep.Name, name) >= 2 {
			found = append(found, dep)
		}
	}
	if len(found) == 1 {
		return found[0], strings.TrimSpace(note), true
	}
	return lianxin.Department{}, "", false
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

func (t *turn) departmentList() string {
	names := make([]string, len(t.dir.Departments))
	for i, d := range t.dir.Departments {
		names[i] = d.Name
	}
	return strings.Join(names, "、")
}
