package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// The case page (/console/cases/{number}): everything about one case, and
// the forms that act on it.

type casePage struct {
	Base
	Case      *lianxin.Case
	Category  string
	Station   string
	Deputy    string
	SLA       lianxin.SLAState
	Photos    []lianxin.Attachment
	Voices    []lianxin.Attachment
	Timeline  []timelineRow
	Talk      []lianxin.JournalEntry
	Notices   []noticeView
	Phone     string // the full number, after «显示» (audited)
	MapURL    string
	Blocked   bool
	Admin     bool
	Staff     bool
	CanAct    bool // may use the deputy verbs
	Seen      int64
	Token     string
	Form      actionForm // what was typed, when a form comes back
	Errors    map[string]string
	Conflict  bool
	Deputies  []lianxin.Deputy
	Depts     []lianxin.Department
	Cats      lianxin.Categories
	Stations  []lianxin.Station
	Templates []lianxin.ResponseTemplate
	// HideResident: an anonymous report seen by a deputy (privacy.go).
	HideResident bool
	CanErase     bool
}

type timelineRow struct {
	lianxin.Event
	Who      string
	Internal bool
}

type noticeView struct {
	lianxin.OutboxMessage
	To string
}

// internal marks timeline entries residents do not see. (Driven by the
// event type today; one line to read the event's audience once it has one.)
func internal(e lianxin.Event) bool { return e.Internal() }

func (h *Handler) casePage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := h.loadCasePage(r, rc, r.PathValue("number"))
	if err != nil {
		return err
	}
	return h.render(w, "case", p)
}

func (h *Handler) loadCasePage(r *http.Request, rc *reqCtx, number string) (*casePage, error) {
	ctx := r.Context()
	c, err := h.cfg.Store.CaseInScope(ctx, rc.scope, number)
	if err != nil {
		return nil, err
	}
	cat, _ := rc.cats.ByKey(c.CategoryKey)
	p := &casePage{Base: h.base(r, rc, c.Number), Case: c, Category: rc.cats.Name(c.CategoryKey),
		Station: stationName(rc.dir, c.StationID), Deputy: deputyName(rc.dir, c.AssigneeID),
		SLA: c.SLA(h.cfg.Now(), h.cfg.RemindAt, cat), Admin: rc.user.Role == lianxin.RoleAdmin, Staff: rc.staffOnly() == nil,
		Seen: c.UpdatedAt.UnixNano(), Token: newFormToken(), Errors: map[string]string{},
		Depts: rc.dir.Departments, Cats: rc.cats}
	p.Title = c.Number + " " + p.Category
	if rc.user.Role == lianxin.RoleDeputy {
		d, _ := rc.dir.Deputy(rc.user.DeputyID)
		p.CanAct = c.AssigneeID == d.ID || (d.Head && rc.scope.Allows(c.StationID, ""))
	} else {
		p.CanAct = p.Staff
	}
	for _, a := range c.Attachments {
		switch a.Kind {
		case lianxin.KindImage:
			p.Photos = append(p.Photos, a)
		case lianxin.KindVoice:
			p.Voices = append(p.Voices, a)
		}
	}
	for _, e := range c.Events {
		p.Timeline = append(p.Timeline, timelineRow{Event: e, Who: h.actorName(rc.dir, e.Actor), Internal: internal(e)})
	}
	if c.Location.HasPoint() {
		p.MapURL = "https://uri.amap.com/marker?position=" + strconv.FormatFloat(c.Location.Lng, 'f', 6, 64) + "," +
			strconv.FormatFloat(c.Location.Lat, 'f', 6, 64) + "&name=" + url.QueryEscape(c.Location.String()) + "&coordinate=wgs84&callnative=0"
	}
	p.HideResident = rc.hidesResident(c)
	p.CanErase = p.Staff && h.cfg.Reports != nil && c.ErasedAt == nil && (c.Phone != "" || c.OpenID != "")
	if p.HideResident {
		// What the resident typed may name them: a deputy reads the
		// report's description only.
		c.Phone, c.ContactName = "", ""
	} else if p.Talk, err = h.cfg.Store.Conversation(ctx, c, 200); err != nil {
		return nil, err
	}
	// The resident typed their number into the chat; it is shown masked
	// there too (the «显示» above is the audited way to read it).
	for i := range p.Talk {
		p.Talk[i].Content = maskPhones(p.Talk[i].Content)
		p.Talk[i].Reply = maskPhones(p.Talk[i].Reply)
	}
	notices, err := h.cfg.Store.CaseNotices(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	for _, n := range notices {
		// A notice to the deputy carries the phone: masked here too.
		n.Payload = maskPhones(payloadText(n.Payload))
		p.Notices = append(p.Notices, noticeView{OutboxMessage: n, To: h.recipientName(rc.dir, n.Recipient, c)})
	}
	if c.OpenID != "" && p.Staff {
		if p.Blocked, err = h.cfg.Store.SenderBlocked(ctx, c.OpenID); err != nil {
			return nil, err
		}
	}
	if p.Staff {
		for _, st := range rc.dir.Stations {
			if rc.scope.All || rc.scope.Allows(st.ID, "") {
				p.Stations = append(p.Stations, st)
			}
		}
		for _, d := range rc.dir.Deputies {
			if rc.scope.All || rc.scope.Allows(d.StationID, "") {
				p.Deputies = append(p.Deputies, d)
			}
		}
	}
	tpls, err := h.cfg.Store.ResponseTemplates(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range tpls {
		if t.Category == "" || t.Category == c.CategoryKey {
			p.Templates = append(p.Templates, t)
		}
	}
	if id := r.URL.Query().Get("template"); id != "" {
		for _, t := range p.Templates {
			if strconv.FormatInt(t.ID, 10) == id {
				p.Form.Text = t.Body
			}
		}
	}
	return p, nil
}

// actorName is who a timeline entry says did it.
func (h *Handler) actorName(dir *lianxin.Directory, actor string) string {
	switch {
	case actor == "system":
		return label("actor", "system")
	case actor == "resident":
		return label("actor", "resident")
	case strings.HasPrefix(actor, "deputy:"):
		return deputyName(dir, strings.TrimPrefix(actor, "deputy:")) + label("actor", "deputy_suffix")
	case strings.HasPrefix(actor, "user:"):
		// An Open311 client files as user:open311:NAME; NAME is the channel.
		return strings.TrimPrefix(strings.TrimPrefix(actor, "user:"), "open311:")
	case strings.HasPrefix(actor, "staff:"), strings.HasPrefix(actor, "cli:"):
		// lianxin cases assign/reply --by NAME, and the operator's CLI.
		_, name, _ := strings.Cut(actor, ":")
		return name
	}
	return actor
}

func (h *Handler) recipientName(dir *lianxin.Directory, recipient string, c *lianxin.Case) string {
	switch {
	case strings.HasPrefix(recipient, lianxin.DeputyRecipientPrefix):
		return deputyName(dir, strings.TrimPrefix(recipient, lianxin.DeputyRecipientPrefix)) + label("actor", "deputy_suffix")
	case recipient == c.OpenID:
		return label("actor", "resident")
	case strings.HasPrefix(recipient, "http"):
		return label("actor", "robot")
	}
	return lianxin.MaskOpenID(recipient)
}

var phoneInText = regexp.MustCompile(`1[3-9]\d{9}`)

// maskPhones masks every mobile number in a text.
func maskPhones(s string) string {
	return phoneInText.ReplaceAllStringFunc(s, lianxin.MaskPhone)
}

func newFormToken() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// revealPhone shows the resident's full phone number on the page; every
// such view is in the audit log.
func (h *Handler) revealPhone(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := h.loadCasePage(r, rc, r.PathValue("number"))
	if err != nil {
		return err
	}
	if p.Case.Phone == "" {
		return h.render(w, "case", p)
	}
	if err := h.cfg.Store.Audit(r.Context(), rc.audit(r, lianxin.AuditViewPhone, p.Case.Number, lianxin.MaskPhone(p.Case.Phone))); err != nil {
		return err
	}
	p.Phone = p.Case.Phone
	return h.render(w, "case", p)
}

// actionForm is a case action's form as typed.
type actionForm struct {
	Verb       string
	Text       string
	Deputy     string
	Department string
	Category   string
	Station    string
	Duplicate  string
	On         bool
	Attachment int64
}

// maxText bounds what staff type into one answer or note (WeChat's
// customer-service texts allow about 2,000 characters).
const maxText = 1000

// Validate checks the form for its verb and returns, per field, the key
// of the Chinese message shown next to it (labels "err:KEY").
func (f *actionForm) Validate(c *lianxin.Case, rc *reqCtx) map[string]string {
	errs := map[string]string{}
	needText := map[string]bool{lianxin.ActAnswer: true, lianxin.ActProgress: true, lianxin.ActResolve: true,
		lianxin.ActReturn: true, lianxin.ActNote: true}
	if needText[f.Verb] && strings.TrimSpace(f.Text) == "" {
		errs["text"] = "text_required"
	}
	if len([]rune(f.Text)) > maxText {
		errs["text"] = "text_too_long"
	}
	switch f.Verb {
	case lianxin.ActAssign:
		if d, ok := rc.dir.Deputy(f.Deputy); !ok || !rc.mayAssignTo(d) {
			errs["deputy"] = "deputy_required"
		} else if f.Deputy == c.AssigneeID {
			errs["deputy"] = "deputy_same"
		}
	case lianxin.ActAccept, lianxin.ActReturn:
		if c.AssigneeID == "" && rc.user.Role != lianxin.RoleDeputy {
			errs["deputy"] = "needs_assignee"
		}
	case lianxin.ActForward:
		if _, ok := rc.dir.Department(f.Department); !ok {
			errs["department"] = "department_required"
		}
		if c.AssigneeID == "" && rc.user.Role != lianxin.RoleDeputy {
			errs["department"] = "needs_assignee"
		}
	case lianxin.ActReroute:
		if f.Category == "" && f.Station == "" || f.Category == c.CategoryKey && (f.Station == "" || f.Station == c.StationID) ||
			f.Category == "" && f.Station == c.StationID {
			errs["reroute"] = "reroute_nothing"
		}
	case lianxin.ActMerge:
		if strings.TrimSpace(f.Duplicate) == "" || strings.EqualFold(strings.TrimSpace(f.Duplicate), c.Number) {
			errs["duplicate"] = "duplicate_required"
		}
	}
	return errs
}

// mayAssignTo: staff give cases to the deputies of their own stations (the
// ones the page offers); the district office to anyone.
func (rc *reqCtx) mayAssignTo(d lianxin.Deputy) bool {
	return rc.scope.All || rc.scope.Allows(d.StationID, "")
}

var actionVerbs = map[string]bool{lianxin.ActAssign: true, lianxin.ActAccept: true, lianxin.ActAnswer: true, lianxin.ActForward: true,
	lianxin.ActProgress: true, lianxin.ActResolve: true, lianxin.ActReturn: true, lianxin.ActReopen: true, lianxin.ActNote: true,
	lianxin.ActReroute: true, lianxin.ActMerge: true, lianxin.ActPrivate: true, lianxin.ActHidePhoto: true, lianxin.ActBlock: true}

// caseAction carries out one form on the case page. Bad input and a case
// that changed since the page was shown come back as the page with the
// message next to the form and everything typed still in it.
func (h *Handler) caseAction(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	verb := r.PathValue("verb")
	if !actionVerbs[verb] {
		return lianxin.Errorf(lianxin.ENOTFOUND, "no action %q", verb)
	}
	if err := r.ParseForm(); err != nil {
		return lianxin.Errorf(lianxin.EINVALID, "bad form: %v", err)
	}
	number := r.PathValue("number")
	p, err := h.loadCasePage(r, rc, number)
	if err != nil {
		return err // outside the scope: not found, like a wrong number
	}
	attachment, _ := strconv.ParseInt(r.PostFormValue("attachment"), 10, 64)
	f := actionForm{Verb: verb, Text: strings.TrimSpace(r.PostFormValue("text")), Deputy: r.PostFormValue("deputy"),
		Department: r.PostFormValue("department"), Category: r.PostFormValue("category"), Station: r.PostFormValue("station"),
		Duplicate: strings.TrimSpace(r.PostFormValue("duplicate")), On: r.PostFormValue("on") == "1", Attachment: attachment}
	p.Form = f
	if rc.user.Role == lianxin.RoleDeputy && !p.CanAct {
		return lianxin.Errorf(lianxin.EFORBIDDEN, "deputy %s may not act on %s", rc.user.DeputyID, number)
	}
	if errs := f.Validate(p.Case, rc); len(errs) > 0 {
		p.Errors = errs
		return h.render(w, "case", p, http.StatusBadRequest)
	}
	var seen *time.Time
	if ns, err := strconv.ParseInt(r.PostFormValue("seen"), 10, 64); err == nil {
		t := time.Unix(0, ns).UTC()
		seen = &t
	} else {
		return lianxin.Errorf(lianxin.EINVALID, "form without the case's version")
	}
	token := r.PostFormValue("token")
	if token == "" {
		token = newFormToken()
	}
	_, err = h.cfg.Casework.Act(r.Context(), lianxin.CaseAction{Verb: verb, Number: p.Case.Number, Actor: rc.user, Scope: rc.scope,
		Seen: seen, Addr: clientAddr(r), IdemKey: token, Text: f.Text, DeputyID: f.Deputy, DepartmentID: f.Department,
		Category: f.Category, StationID: f.Station, Duplicate: strings.ToUpper(f.Duplicate), On: f.On, AttachmentID: f.Attachment})
	switch lianxin.ErrorCode(err) {
	case "":
	case lianxin.ECONFLICT:
		p.Conflict = true
		return h.render(w, "case", p, http.StatusConflict)
	case lianxin.EINVALID:
		p.Errors["form"] = "invalid"
		return h.render(w, "case", p, http.StatusBadRequest)
	case lianxin.ENOTFOUND:
		if verb == lianxin.ActMerge {
			p.Errors["duplicate"] = "duplicate_unknown"
			return h.render(w, "case", p, http.StatusBadRequest)
		}
		return err
	default:
		return err
	}
	http.Redirect(w, r, "/console/cases/"+url.PathEscape(p.Case.Number)+"?done="+verb+"#top", http.StatusSeeOther)
	return nil
}
