package flows

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// inFlow handles a message while the resident is filling in a report.
func (t *turn) inFlow() (string, error) {
	st := t.current()
	if st == nil {
		t.s.clearFlow()
		return join(t.txt("flow_updated"), t.txt("menu")), nil
	}
	m := t.m
	confirming := t.s.ConfirmCancel
	t.s.ConfirmCancel = false
	if m.Kind == lianxin.KindText || m.Kind == lianxin.KindVoice {
		w := normalizeReply(m.Text)
		switch {
		case confirming && (wordsCancel[w] || wordsYes[w] || w == "确定取消"):
			return t.cancel(), nil
		case wordsHelp[w]:
			return join(st.Help, t.prompt()), nil
		case wordsBack[w]:
			return t.back(), nil
		case wordsCancel[w]:
			return t.askCancel(), nil
		case wordsStaff[w]:
			return t.staff()
		case wordsMenu[w]:
			t.s.Paused = true
			return t.txt("paused_menu", "menu", t.txt("menu")), nil
		case wordsContinue[w]:
			return join(t.txt("resumed"), t.prompt()), nil
		case wordsRestart[w]:
			t.start()
			return join(t.txt("restarted"), t.prompt()), nil
		case wantsProgress(w):
			list, err := t.progress(w)
			return join(list, t.short()), err
		case wordsReport[w] && st.Kind != StepCategory && st.Kind != StepStation:
			return join(t.txt("already_reporting"), t.prompt()), nil
		case wordsThanks[w]:
			return join(t.txt("thanks_reply"), t.short()), nil
		case st.Kind != StepPhone && st.Kind != StepDescription && st.Kind != StepText && t.isContactQuestion(m.Text):
			contact, err := t.contact()
			return join(contact, t.short()), err
		}
	}
	// A photo or a location sent at another step belongs to the report all
	// the same: keep it and remind the resident where they are.
	if m.Kind == lianxin.KindImage && !st.accepts(InputImage) {
		if err := t.keepPhoto(); err != nil {
			return "", err
		}
		return join(t.photoAck(), t.short()), nil
	}
	if m.Kind == lianxin.KindLocation && !st.accepts(InputLocation) {
		place := t.keepLocation()
		return join(t.txt("location_kept", "place", place), t.short()), nil
	}
	// Text and recognised voice are always read, if only for the step's
	// control words (完成, 跳过); `accepts` governs photos and locations.
	switch st.Kind {
	case StepCategory:
		return t.answerCategory(st)
	case StepDescription:
		return t.answerDescription(st)
	case StepPhotos:
		return t.answerPhotos(st)
	case StepLocation:
		return t.answerLocation(st)
	case StepStation:
		return t.answerStation(st)
	case StepPhone:
		return t.answerPhone(st)
	case StepText:
		return t.answerText(st)
	case StepConfirm:
		return t.answerConfirm(st)
	}
	return t.invalid(""), nil
}

// afterIdle handles the first message after a draft was left for more than
// IdleTTL. Most often it is the answer the step was waiting for, given a
// while later: it is applied, with a word that the draft carries on. A new
// problem or a greeting is not taken for an answer: the draft is paused and
// offered back, the new problem kept (see paused).
func (t *turn) afterIdle() (string, error) {
	if t.m.Kind == lianxin.KindText || t.m.Kind == lianxin.KindVoice {
		raw := textOf(t.m)
		w := normalizeReply(raw)
		st := t.current()
		problem := st != nil && st.Kind != StepDescription && st.Kind != StepCategory && t.cl.LooksLikeProblem(raw)
		if problem || wordsGreeting[w] || wordsHere[w] {
			t.s.Paused = true
			return t.paused()
		}
		if wordsContinue[w] || wordsRestart[w] || wordsCancel[w] || wordsStaff[w] || wordsMenu[w] || wantsProgress(w) || wordsHelp[w] {
			return t.inFlow()
		}
	}
	reply, err := t.inFlow()
	if err != nil || !t.s.inFlow() {
		return reply, err
	}
	return join(t.txt("welcome_back"), reply), nil
}

// paused handles a message to a paused draft (菜单, or a new problem after an
// idle pause). The menu's numbers and words do what the menu says; the
// draft waits and is offered back. A new problem typed here is kept: the
// resident chooses between it and the draft, and whichever waits is
// offered again afterwards.
func (t *turn) paused() (string, error) {
	m := t.m
	confirming := t.s.ConfirmCancel
	t.s.ConfirmCancel = false
	switch m.Kind {
	case lianxin.KindImage:
		if err := t.keepPhoto(); err != nil {
			return "", err
		}
		return join(t.photoAck(), t.resumeOffer()), nil
	case lianxin.KindLocation:
		place := t.keepLocation()
		return join(t.txt("location_kept", "place", place), t.resumeOffer()), nil
	}
	raw := textOf(m)
	w := normalizeReply(raw)
	if word, ok := menuNumbers[w]; ok {
		w = word
	}
	switch {
	case confirming && (wordsCancel[w] || wordsYes[w] || w == "确定取消"):
		return t.cancel(), nil
	case wordsContinue[w]:
		t.s.Paused = false
		return join(t.txt("resumed"), t.prompt()), nil
	case wordsNew[w] || wordsRestart[w]:
		if p := t.pending(); p != "" {
			t.s.Pending, t.s.PendingAt = "", 0
			return t.startFromText(p)
		}
		t.start()
		return join(t.txt("restarted"), t.prompt()), nil
	case wordsCancel[w]:
		return t.askCancel(), nil
	case wordsStaff[w]:
		return t.staff()
	case wordsReport[w]:
		return t.resumeOffer(), nil
	case wordsHelp[w]:
		return join(t.txt("help"), t.txt("paused_reminder")), nil
	case wordsMenu[w]:
		return t.txt("paused_menu", "menu", t.txt("menu")), nil
	case wantsProgress(w):
		list, err := t.progress(w)
		return join(list, t.txt("paused_reminder")), err
	case wordsThanks[w]:
		return join(t.txt("thanks_reply"), t.txt("paused_reminder")), nil
	case t.isContactQuestion(raw):
		contact, err := t.contact()
		return join(contact, t.txt("paused_reminder")), err
	case t.cl.LooksLikeProblem(raw):
		t.s.Pending, t.s.PendingAt = strings.TrimSpace(raw), t.now.Unix()
		return t.txt("paused_new_problem", "text", clip(t.s.Pending, 20), "draft", t.describeDraft()), nil
	}
	return t.resumeOffer(), nil
}

// pending is a problem the resident typed while a draft was paused, if it
// is recent enough to offer back (as recent as a draft is kept).
func (t *turn) pending() string {
	if t.s.Pending == "" || t.now.Sub(time.Unix(t.s.PendingAt, 0)) > t.e.cfg.DraftTTL {
		return ""
	}
	return t.s.Pending
}

// pendingOffer reminds the resident of the problem they typed while their
// draft was paused, once that draft is done with.
func (t *turn) pendingOffer() string {
	if p := t.pending(); p != "" {
		return t.txt("pending_offer", "text", clip(p, 20))
	}
	return ""
}

// askCancel asks once before throwing away a draft with photos in it;
// anything else is cancelled at once (取消 says what it discarded).
func (t *turn) askCancel() string {
	if n := len(t.s.Ans.Photos); n > 0 {
		t.s.ConfirmCancel = true
		return t.txt("cancel_confirm", "count", itoa(n))
	}
	return t.cancel()
}

func (t *turn) resumeOffer() string { return t.txt("resume_offer", "draft", t.describeDraft()) }

// describeDraft says in a few words what the draft holds.
func (t *turn) describeDraft() string {
	a := t.s.Ans
	var parts []string
	if a == nil {
		return ""
	}
	if c, ok := t.cats.ByKey(a.Category); ok {
		parts = append(parts, c.Name)
	}
	if a.Desc != "" {
		parts = append(parts, "「"+clip(a.Desc, 20)+"」")
	}
	if n := len(a.Photos); n > 0 {
		parts = append(parts, t.txt("draft_photos", "count", itoa(n)))
	}
	if a.hasLocation() {
		parts = append(parts, t.place())
	}
	return strings.Join(parts, "，")
}

func (t *turn) back() string {
	s := t.s
	if len(s.Hist) == 0 {
		return join(t.txt("back_first"), t.prompt())
	}
	prev := s.Hist[len(s.Hist)-1]
	s.Hist = s.Hist[:len(s.Hist)-1]
	s.unmarkDone(prev)
	s.Step, s.Fails, s.Suggest = prev, 0, ""
	return t.prompt()
}

func (t *turn) cancel() string {
	what := t.describeDraft()
	t.s.clearFlow()
	if what == "" {
		return join(t.txt("cancelled_empty"), t.pendingOffer())
	}
	return join(t.txt("cancelled", "draft", what), t.pendingOffer())
}

// keepPhoto registers a photo and adds it to the draft if there is room.
// A photo over the limit is still stored (and the resident told so).
func (t *turn) keepPhoto() error {
	id, err := t.st.RegisterAttachment(t.ctx, t.m)
	if err != nil {
		return err
	}
	a := t.s.Ans
	for _, p := range a.Photos {
		if p == id {
			return nil
		}
	}
	if len(a.Photos) < t.maxPhotos() {
		a.Photos = append(a.Photos, id)
	} else {
		t.overflow = true
	}
	return nil
}

func (t *turn) maxPhotos() int {
	if st := t.stepOfKind(StepPhotos); st != nil {
		return st.Max
	}
	return 9
}

func (t *turn) photoAck() string {
	if t.overflow {
		return t.txt("photo_over", "max", itoa(t.maxPhotos()))
	}
	return t.txt("photo_kept", "count", itoa(len(t.s.Ans.Photos)))
}

// keepLocation records a WeChat location and the station it decides.
func (t *turn) keepLocation() string {
	a := t.s.Ans
	m := t.m
	a.Lat, a.Lng, a.Label, a.Address = m.Lat, m.Lng, m.Label, ""
	t.route()
	if st := t.stepOfKind(StepLocation); st != nil {
		t.s.markDone(st.ID)
	}
	return t.place()
}

// route decides the station from a new location. A location that decides
// nothing leaves a station the resident chose by hand; otherwise the station
// step will ask.
func (t *turn) route() bool {
	a := t.s.Ans
	loc := lianxin.Location{Lat: a.Lat, Lng: a.Lng, Label: a.Label, Address: a.Address}
	id, reason, ok := t.dir.RouteStation(loc, "")
	station := t.stepOfKind(StepStation)
	switch {
	case a.Scanned:
		// The resident scanned a deputy's or station's code: it decides.
	case ok:
		a.Station, a.StationReason, a.StationChosen = id, reason, false
		if station != nil {
			t.s.markDone(station.ID)
		}
	case a.StationChosen:
	default:
		a.Station, a.StationReason = "", ""
		if station != nil {
			t.s.unmarkDone(station.ID)
		}
	}
	return ok
}

func (t *turn) place() string {
	a := t.s.Ans
	loc := lianxin.Location{Lat: a.Lat, Lng: a.Lng, Label: a.Label, Address: a.Address}
	return loc.String()
}

func (t *turn) setDescription(text string) error {
	t.s.Ans.Desc = strings.TrimSpace(text)
	if t.m.Kind == lianxin.KindVoice {
		id, err := t.st.RegisterAttachment(t.ctx, t.m)
		if err != nil {
			return err
		}
		t.s.Ans.Voices = append(t.s.Ans.Voices, id)
	}
	return nil
}

func (t *turn) answerCategory(st *Step) (string, error) {
	raw := textOf(t.m)
	w := normalizeReply(raw)
	s := t.s
	if s.Suggest != "" && wordsYes[w] {
		s.Ans.Category = s.Suggest
		return t.advance(""), nil
	}
	if wordsNo[w] {
		s.Suggest = ""
		return t.prompt(), nil
	}
	cats := t.cats
	if n, ok := choiceNumber(w); ok {
		if n < 1 || n > len(cats) {
			return t.invalid(t.txt("invalid_choice")), nil
		}
		s.Ans.Category = cats[n-1].Key
		return t.advance(""), nil
	}
	for _, c := range cats {
		if w == c.Name || w == c.Key || (runeLen(w) >= 2 && strings.Contains(c.Name, w)) {
			s.Ans.Category = c.Key
			return t.advance(""), nil
		}
	}
	// Free text at the category step: the resident is describing the
	// problem. Keep it as the description if there is none, and offer the
	// category it reads as.
	note := ""
	if desc := t.stepOfKind(StepDescription); desc != nil && !s.done(desc.ID) && t.cl.LooksLikeProblem(raw) {
		var err error
		if note, err = t.describeFrom(desc, raw); err != nil {
			return "", err
		}
	}
	if sug, ok := t.cl.Suggest(raw); ok {
		if c, found := t.cats.ByKey(sug.Key); found {
			s.Suggest = c.Key
			return join(note, t.label(st)+t.txt("suggest", "category", c.Name, "options", t.categoryOptions())), nil
		}
	}
	return t.invalid(t.txt("invalid_choice")), nil
}

func (t *turn) answerDescription(st *Step) (string, error) {
	text := strings.TrimSpace(textOf(t.m))
	if wordsSkip[normalizeReply(text)] && !st.Optional {
		return t.invalid(t.txt("not_optional")), nil
	}
	if runeLen(text) < st.Min {
		return t.invalid(t.txt("too_short", "min", itoa(st.Min))), nil
	}
	text, note := t.fit(st, text)
	if err := t.setDescription(text); err != nil {
		return "", err
	}
	return t.advance(note), nil
}

// fit keeps a text to the step's maximum length: what is over it is cut,
// and the note says so (the whole message stays in the journal). A long
// text is the resident's trouble to write, not a reason to lose it.
func (t *turn) fit(st *Step, text string) (string, string) {
	n := runeLen(text)
	if st.Max == 0 || n <= st.Max {
		return text, ""
	}
	return string([]rune(text)[:st.Max]), t.txt("too_long_kept", "max", itoa(st.Max), "count", itoa(n))
}

func (t *turn) answerPhotos(st *Step) (string, error) {
	a := t.s.Ans
	if t.m.Kind == lianxin.KindImage {
		if err := t.keepPhoto(); err != nil {
			return "", err
		}
		if t.overflow {
			return join(t.txt("photo_over", "max", itoa(st.Max)), t.short()), nil
		}
		if len(a.Photos) >= st.Max {
			return t.advance(t.txt("photos_full", "count", itoa(len(a.Photos)))), nil
		}
		return t.txt("photo_added", "count", itoa(len(a.Photos)), "left", itoa(st.Max-len(a.Photos))), nil
	}
	w := normalizeReply(textOf(t.m))
	switch {
	case wordsDone[w] && len(a.Photos) > 0, wordsSkip[w] && st.Optional:
		return t.advance(""), nil
	case wordsDone[w]:
		if st.Optional {
			return t.advance(""), nil
		}
		return t.invalid(t.txt("photos_expected")), nil
	case w == "清空" || w == "重新上传":
		a.Photos = nil
		return t.prompt(), nil
	case wordsSkip[w]:
		return t.invalid(t.txt("not_optional")), nil
	}
	if len(a.Photos) == 0 {
		return t.invalid(t.txt("photos_expected")), nil
	}
	return t.invalid(""), nil
}

func (t *turn) answerLocation(st *Step) (string, error) {
	if t.m.Kind == lianxin.KindLocation {
		place := t.keepLocation()
		t.s.unmarkDone(st.ID) // advance marks it again, after recording history
		return t.advance(t.txt("location_kept", "place", place)), nil
	}
	text := strings.TrimSpace(textOf(t.m))
	if wordsSkip[normalizeReply(text)] {
		if st.Optional {
			return t.advance(""), nil
		}
		return t.invalid(t.txt("not_optional")), nil
	}
	a := t.s.Ans
	old := *a
	a.Lat, a.Lng, a.Label, a.Address = 0, 0, "", clip(text, 200)
	// A short address is fine when it names a place we know ("水滩");
	// otherwise it is too vague to find.
	if !t.route() && runeLen(text) < 4 {
		*a = old
		return t.invalid(t.txt("address_too_short")), nil
	}
	return t.advance(t.txt("location_kept", "place", a.Address)), nil
}

func (t *turn) answerStation(st *Step) (string, error) {
	w := normalizeReply(textOf(t.m))
	units := t.dir.Stations
	chosen := ""
	if n, ok := choiceNumber(w); ok {
		if n < 1 || n > len(units) {
			return t.invalid(t.txt("invalid_choice")), nil
		}
		chosen = units[n-1].ID
	} else {
		for _, u := range units {
			if runeLen(w) >= 2 && strings.Contains(u.Name, w) {
				chosen = u.ID
				break
			}
		}
	}
	if chosen == "" {
		return t.invalid(t.txt("invalid_choice")), nil
	}
	unit, _ := t.dir.Station(chosen)
	t.s.Ans.Station, t.s.Ans.StationReason, t.s.Ans.StationChosen = chosen, t.txt("reason_choice", "unit", unit.Name), true
	return t.advance(""), nil
}

func (t *turn) answerPhone(st *Step) (string, error) {
	text := strings.TrimSpace(textOf(t.m))
	if wordsSkip[normalizeReply(text)] {
		if !st.Optional {
			return t.invalid(t.txt("not_optional")), nil
		}
		t.s.Ans.Phone = ""
		return t.advance(""), nil
	}
	phone, problem, digits := phoneNumber(text)
	if problem != "" {
		// The reason says what to send instead; the whole prompt again
		// would only bury it.
		return t.invalidShort(t.txt(problem, "count", itoa(digits))), nil
	}
	t.s.Ans.Phone = phone
	return t.advance(""), nil
}

func (t *turn) answerText(st *Step) (string, error) {
	text := strings.TrimSpace(textOf(t.m))
	if wordsSkip[normalizeReply(text)] && st.Optional {
		return t.advance(""), nil
	}
	if runeLen(text) < st.Min {
		return t.invalid(t.txt("too_short", "min", itoa(st.Min))), nil
	}
	text, note := t.fit(st, text)
	if t.s.Ans.Extra == nil {
		t.s.Ans.Extra = map[string]string{}
	}
	t.s.Ans.Extra[st.Field] = text
	return t.advance(note), nil
}

func (t *turn) answerConfirm(st *Step) (string, error) {
	w := normalizeReply(textOf(t.m))
	offered := t.s.Ans.MeToo != ""
	if offered && wordsSame[w] {
		return t.joinOffered()
	}
	if wordsYes[w] || (offered && wordsNotSame[w]) {
		// An open case like this one nearby is offered once, before filing.
		if offer, ok, err := t.meTooOffer(); err != nil || ok {
			return offer, err
		}
		t.s.Ans.MeToo = ""
		c, err := t.submit(false)
		if err != nil {
			return "", err
		}
		cat, _ := t.cats.ByKey(c.CategoryKey)
		deputy := ""
		if d, ok := t.dir.Deputy(c.AssigneeID); ok {
			deputy = t.txt("submitted_deputy", "name", d.Name)
		}
		reply := t.txt("submitted", "number", c.Number, "station", t.stationName(c.StationID), "deputy", deputy, "hours", itoa(cat.AcceptHours))
		if c.Reporter != "" {
			told := t.txt("grid_submitted_untold")
			if c.OpenID != "" {
				told = t.txt("grid_submitted_told")
			}
			reply = join(reply, told)
		}
		return join(reply, t.pendingOffer()), nil
	}
	if n, ok := editNumber(w); ok {
		steps := t.e.report.Steps
		if n < 1 || n >= len(steps) {
			return t.invalid(t.txt("edit_invalid", "n", itoa(n), "max", itoa(len(steps)-1))), nil
		}
		target := steps[n-1].ID
		// What is offered depends on the category and the place: ask again
		// once the report is changed.
		t.s.Ans.MeToo, t.s.Ans.MeTooAsked = "", false
		t.s.unmarkDone(target)
		t.s.Hist = append(t.s.Hist, st.ID)
		t.s.Step, t.s.Fails = target, 0
		if steps[n-1].Kind == StepStation {
			// Choosing a station by hand overrides the one the location gave.
			t.s.Ans.StationReason, t.s.Ans.StationChosen = "", false
		}
		return t.prompt(), nil
	}
	if offered {
		return t.invalid(t.txt("metoo_confirm_expected", "number", t.s.Ans.MeToo)), nil
	}
	return t.invalid(t.txt("confirm_expected")), nil
}

// summary lists the answers, numbered as 修改 N refers to them.
func (t *turn) summary() string {
	a := t.s.Ans
	var lines []string
	if p := a.Proxy; p != nil {
		if p.Anon {
			lines = append(lines, t.txt("summary_proxy_anonymous"))
		} else {
			lines = append(lines, t.txt("summary_proxy", "who", t.proxyName(p)))
		}
	}
	for i, st := range t.e.report.Steps {
		n := itoa(i + 1)
		switch st.Kind {
		case StepCategory:
			c, _ := t.cats.ByKey(a.Category)
			lines = append(lines, t.txt("summary_category", "n", n, "value", c.Name))
		case StepDescription:
			lines = append(lines, t.txt("summary_description", "n", n, "value", clip(a.Desc, 60)))
		case StepPhotos:
			arrived, failed := t.photoCounts()
			switch {
			case failed > 0:
				lines = append(lines, t.txt("summary_photos_failed", "n", n, "count", itoa(arrived), "failed", itoa(failed)))
			case arrived == 0:
				lines = append(lines, t.txt("summary_no_photos", "n", n))
			default:
				lines = append(lines, t.txt("summary_photos", "n", n, "count", itoa(arrived)))
			}
		case StepLocation:
			lines = append(lines, t.txt("summary_location", "n", n, "value", t.place()))
		case StepStation:
			lines = append(lines, t.txt("summary_station", "n", n, "value", t.stationName(a.Station)))
		case StepPhone:
			if a.Phone == "" {
				lines = append(lines, t.txt("summary_no_phone", "n", n))
			} else {
				lines = append(lines, t.txt("summary_phone", "n", n, "value", lianxin.MaskPhone(a.Phone)))
			}
		case StepText:
			lines = append(lines, t.txt("summary_text", "n", n, "label", st.Label, "value", clip(a.Extra[st.Field], 60)))
		}
	}
	return strings.Join(lines, "\n")
}

// photoCounts counts the draft's photos that arrived (or are still on
// their way) and those that could not be fetched from WeChat.
func (t *turn) photoCounts() (arrived, failed int) {
	if t.s.Ans == nil || len(t.s.Ans.Photos) == 0 {
		return 0, 0
	}
	photos := t.s.Ans.Photos
	status, err := t.e.cfg.Store.AttachmentStatuses(t.ctx, photos)
	if err != nil {
		t.e.log.Warn("reading the draft's photos failed; counting them all", "err", err)
		return len(photos), 0
	}
	for _, id := range photos {
		if status[id] == lianxin.AttachmentFailed {
			failed++
		}
	}
	return len(photos) - failed, failed
}

// submit registers the draft as a case and ends the flow. A retried or
// replayed submission returns the case already registered.
func (t *turn) submit(needsStaff bool) (*lianxin.Case, error) {
	a := t.s.Ans
	if a == nil {
		a = &Answers{}
	}
	cat, ok := t.cats.ByKey(a.Category)
	if !ok {
		cat, _ = t.cats.ByKey(lianxin.OtherCategory)
	}
	desc := a.Desc
	for _, st := range t.e.report.Steps {
		if st.Kind == StepText && a.Extra[st.Field] != "" {
			desc = join(desc, st.Label+"："+a.Extra[st.Field])
		}
	}
	r := lianxin.Report{
		SourceKey:     t.m.Account + ":" + t.m.Key(),
		OpenID:        t.m.OpenID,
		Category:      cat,
		Description:   desc,
		Location:      lianxin.Location{Lat: a.Lat, Lng: a.Lng, Label: a.Label, Address: a.Address},
		StationID:     a.Station,
		StationReason: a.StationReason,
		Phone:         a.Phone,
		Attachments:   append(append([]int64(nil), a.Photos...), a.Voices...),
		NeedsStaff:    needsStaff,
		ScanDeputy:    a.ScanDeputy,
	}
	if g, ok := t.dir.GridAt(r.Location); ok {
		r.GridID = g.ID
	}
	events := []lianxin.Event{{Type: lianxin.EventCreated, Actor: "resident", Audience: lianxin.AudienceResident}}
	if a.Proxy != nil {
		if err := t.proxyReport(&r, a.Proxy); err != nil {
			return nil, err
		}
		w, _, _ := t.dir.GridWorker(a.Proxy.Worker)
		// The resident did not file it: what they read is who did.
		events = []lianxin.Event{{Type: lianxin.EventCreated, Actor: r.Reporter, Text: t.txt("grid_created", "worker", w.Name)},
			{Type: lianxin.EventTold, Actor: r.Reporter, Text: t.txt("timeline_grid_created", "worker", w.Name), Audience: lianxin.AudienceResident}}
	}
	if r.StationID != "" {
		events = append(events, lianxin.Event{Type: lianxin.EventRouted, Actor: "system", Text: r.StationReason, Audience: lianxin.AudienceStaff})
	}
	if needsStaff {
		events = append(events, lianxin.Event{Type: lianxin.EventStaff, Actor: "resident", Audience: lianxin.AudienceResident})
	}
	arrived, _ := t.photoCounts()
	assign := t.assigner(r, nil, "told_assigned", arrived)
	if needsStaff {
		assign = t.staffAssigner(r)
	}
	if b, ok := t.e.cfg.Store.(blockList); ok {
		// A sender staff blocked is still heard, but by staff first: no
		// deputy is notified of their reports.
		if blocked, err := b.SenderBlocked(t.ctx, r.OpenID); err != nil {
			return nil, err
		} else if blocked {
			assign = func(lianxin.AssignView, string) (lianxin.Assignment, error) {
				return lianxin.Assignment{NeedsStaff: true, Events: []lianxin.Event{{Type: lianxin.EventAssigned, Actor: "system", Text: t.txt("unassigned_blocked"), Audience: lianxin.AudienceStaff}}}, nil
			}
		}
	}
	if a.Proxy != nil && r.OpenID != "" {
		assign = t.tellProxied(assign, r)
	}
	c, _, err := t.st.CreateCase(t.ctx, t.e.cfg.Numbering, r, events, nil, assign)
	if err != nil {
		return nil, err
	}
	if a.Scanned {
		t.s.Scan = nil // a scan decides the next report, not every one after
	}
	t.s.clearFlow()
	return c, nil
}

// blockList is the store's list of blocked senders, when it keeps one.
type blockList interface {
	SenderBlocked(ctx context.Context, openid string) (bool, error)
}

// assigner picks a new (or returned) case's deputy inside its transaction
// and writes who is told: the deputy, and the station's group robot. The
// timeline gets the choice with its reason for staff, and what the
// resident reads (told, with the deputy's name). exclude are deputies who
// returned the case.
func (t *turn) assigner(r lianxin.Report, exclude []string, told string, photos int) lianxin.Assigner {
	return func(v lianxin.AssignView, number string) (lianxin.Assignment, error) {
		c := caseOf(r, number, t.now)
		// A case re-routed (exclude: who returned it) is one its resident
		// knows about: they are told where it went.
		rerouted := len(exclude) > 0
		if r.StationID == "" {
			return t.staffQueue(c, t.txt("staff_reason_unroutable"), rerouted), nil
		}
		d, scanned := t.scannedDeputy(r, exclude)
		why, ok, err := t.txt("reason_scan"), scanned, error(nil)
		if !scanned {
			d, why, ok, err = t.pickDeputy(v, r, exclude)
		}
		if err != nil {
			return lianxin.Assignment{}, err
		}
		if !ok {
			reason := t.txt("staff_reason_nobody")
			if rerouted {
				reason = t.txt("staff_reason_returned")
			}
			return t.staffQueue(c, reason, rerouted), nil
		}
		a := lianxin.Assignment{AssigneeID: d.ID, Events: []lianxin.Event{
			{Type: lianxin.EventAssigned, Actor: "system", Text: d.Name + "（" + why + "）", Audience: lianxin.AudienceStaff},
			{Type: lianxin.EventTold, Actor: "system", Text: t.txt(told, "deputy", d.Name), Audience: lianxin.AudienceResident}}}
		place := r.Location.String()
		if place == "" {
			place = t.txt("none")
		}
		dueText := ""
		if h := r.Category.AcceptHours; h > 0 {
			dueText = t.now.Add(time.Duration(h) * time.Hour).In(t.e.cfg.Numbering.Location).Format("01-02 15:04")
		}
		media := t.txt("new_case_no_photos")
		if photos > 0 {
			media = t.txt("new_case_photos", "count", itoa(photos), "short", lianxin.ShortNumber(number))
		}
		text := t.txt("notify_new_case", "number", number, "category", r.Category.Name, "station", t.stationName(r.StationID),
			"description", clip(r.Description, 200), "place", place, "photos", media, "reason", why, "accept_due", dueText,
			"short", lianxin.ShortNumber(number))
		idem := fmt.Sprintf("assign:%s:%s", number, d.ID)
		n := t.notice(idem, lianxin.DeputyRecipient(d.ID), text, t.txt("notify_new_case_title"), c, d.Name)
		// Asking them to accept makes sense while the case waits for them.
		n.Valid = &lianxin.NoticeRule{Statuses: []lianxin.Status{lianxin.StatusRegistered, lianxin.StatusReopened}, Assignee: d.ID}
		a.Notices = append(a.Notices, n)
		if n, ok := t.robotNotice("robot:"+idem, c, t.txt("robot_new_case", "number", number, "category", r.Category.Name,
			"station", t.stationName(r.StationID), "deputy", d.Name, "description", clip(r.Description, 60))); ok {
			a.Notices = append(a.Notices, n)
		}
		return a, nil
	}
}

// pickDeputy chooses the deputy of r's station (or point) for a case, as
// routing does (Directory.PickDeputy), reading the open counts and the
// station's last assignee through v; never one of exclude.
func (t *turn) pickDeputy(v lianxin.AssignView, r lianxin.Report, exclude []string) (lianxin.Deputy, string, bool, error) {
	if d, ok := t.dir.Deputy(r.ReceivedBy); ok && !slices.Contains(exclude, d.ID) {
		return d, t.txt("reason_received"), true, nil
	}
	family := []string{r.StationID}
	if st, ok := t.dir.StationOf(r.StationID); ok {
		family = []string{st.ID}
		for _, p := range t.dir.Points(st.ID) {
			family = append(family, p.ID)
		}
	}
	var candidates []string
	for _, u := range family {
		for _, d := range t.dir.DeputiesOf(u) {
			candidates = append(candidates, d.ID)
		}
	}
	open, err := v.OpenCounts(candidates)
	if err != nil {
		return lianxin.Deputy{}, "", false, err
	}
	last, err := v.LastAssignee(family)
	if err != nil {
		return lianxin.Deputy{}, "", false, err
	}
	d, why, ok := t.dir.PickDeputy(lianxin.PickInput{StationID: r.StationID, Category: r.Category, Now: t.now,
		Loc: t.e.cfg.Numbering.Location, Open: open, LastAssigned: last, Exclude: exclude})
	return d, why, ok, nil
}
