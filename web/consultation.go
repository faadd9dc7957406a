package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// Consultations on draft regulations (/console/consultations): staff write
// a draft (pasted, or a .txt or .docx upload, split into its articles by
// «第X条» and editable), publish it to its audience, review the opinions
// article by article (merge duplicates, mark each adopted or not, write the
// station's recommendation), export the written suggestions (书面建议) and
// conclude it, which tells every contributor what became of their opinion.
// Staff see their station's consultations, admins all; deputies none.

// ConsultationDesk is what the consultation pages read and do: the store's
// consultations, and publishing and concluding through the engine (which
// words the push and the notices), and the export (report).
type ConsultationDesk interface {
	Consultations(ctx context.Context, scope lianxin.Scope) ([]lianxin.Consultation, error)
	Consultation(ctx context.Context, scope lianxin.Scope, id int64) (*lianxin.Consultation, error)
	CreateConsultation(ctx context.Context, e lianxin.ConsultationEdit, by string, a lianxin.AuditEntry) (*lianxin.Consultation, error)
	UpdateConsultation(ctx context.Context, scope lianxin.Scope, id int64, seen time.Time, e lianxin.ConsultationEdit, a lianxin.AuditEntry) error
	// Opinions are read for a consultation Consultation returned.
	Opinions(ctx context.Context, id int64) ([]lianxin.Opinion, error)
	ReviewOpinion(ctx context.Context, scope lianxin.Scope, id int64, r lianxin.OpinionReview) error
	SetRecommendation(ctx context.Context, scope lianxin.Scope, id int64, seq int, text string, a lianxin.AuditEntry) error
	AddOpinion(ctx context.Context, o lianxin.NewOpinion) (*lianxin.Opinion, bool, error)
	MassSends(ctx context.Context, purpose string) ([]lianxin.MassSend, error)
	MassSendsUsed(ctx context.Context, month, tag string) (int, error)
	PublicConsultation(ctx context.Context, id int64) (*lianxin.Consultation, error)
	Publish(ctx context.Context, scope lianxin.Scope, id int64, actor lianxin.User, addr string) error
	Conclude(ctx context.Context, scope lianxin.Scope, id int64, actor lianxin.User, addr string) (int, error)
	// ExportSuggestions writes the written suggestions: xlsx, html or pdf.
	ExportSuggestions(ctx context.Context, scope lianxin.Scope, id int64, format string, w io.Writer) error
	// MassQuota is the month's mass sends a follower may get.
	MassQuota() int
}

// PublicPrefix is where the public pages are: a published consultation's
// draft, as the push links to it (/c/ID), readable with no sign-in.
const PublicPrefix = "/c/"

// ConsultationLink is the public page of a consultation.
func ConsultationLink(publicURL string, id int64) string {
	return strings.TrimRight(publicURL, "/") + PublicPrefix + strconv.FormatInt(id, 10)
}

// practiceRoutes are issue 14's pages: consultations, grids, similar cases
// and suggestions, and the public draft.
func (h *Handler) practiceRoutes() {
	m := h.mux
	m.Handle("GET /console/consultations", h.auth(h.consultationList))
	m.Handle("GET /console/consultations/new", h.auth(h.consultationNew))
	m.Handle("POST /console/consultations", h.auth(h.consultationCreate))
	m.Handle("GET /console/consultations/{id}", h.auth(h.consultationPage))
	m.Handle("POST /console/consultations/{id}/edit", h.auth(h.consultationEdit))
	m.Handle("POST /console/consultations/{id}/publish", h.auth(h.consultationPublish))
	m.Handle("POST /console/consultations/{id}/conclude", h.auth(h.consultationConclude))
	m.Handle("POST /console/consultations/{id}/opinions", h.auth(h.opinionRecord))
	m.Handle("POST /console/consultations/{id}/opinions/{oid}", h.auth(h.opinionReview))
	m.Handle("POST /console/consultations/{id}/articles/{seq}", h.auth(h.articleRecommend))
	m.Handle("GET /console/consultations/{id}/export/{file}", h.auth(h.consultationExport))
	m.Handle("GET "+PublicPrefix+"{id}", h.forResidents(h.publicConsultation))
	m.Handle("GET "+PublicPrefix+"{id}/{seq}", h.forResidents(h.publicConsultation))
	h.gridRoutes()
	h.suggestionRoutes()
	h.qrRoutes()
	h.open311Routes()
}

func (h *Handler) consultDesk(rc *reqCtx) (ConsultationDesk, error) {
	if h.cfg.Consultations == nil {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "consultations are not wired")
	}
	if rc != nil {
		if err := rc.staffOnly(); err != nil {
			return nil, err
		}
	}
	return h.cfg.Consultations, nil
}

type consultationListPage struct {
	Base
	List  []lianxin.Consultation
	Names map[string]string // stations' names
}

func (h *Handler) consultationList(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := h.consultDesk(rc)
	if err != nil {
		return err
	}
	list, err := d.Consultations(r.Context(), rc.scope)
	if err != nil {
		return err
	}
	p := consultationListPage{Base: h.base(r, rc, "立法征求意见"), List: list, Names: map[string]string{}}
	for _, c := range list {
		p.Names[c.StationID] = stationName(rc.dir, c.StationID)
	}
	return h.render(w, "consultations", p)
}

// consultationForm is the new-consultation form as typed.
type consultationForm struct {
	Title, Intro, Text, Deadline, Audience, Station string
}

type consultationNewPage struct {
	Base
	Form      consultationForm
	Errors    map[string]string
	Stations  []lianxin.Station
	Audiences []string
}

func (h *Handler) stationsOf(rc *reqCtx) []lianxin.Station {
	var out []lianxin.Station
	for _, st := range rc.dir.Stations {
		if st.Kind == lianxin.StationKind && rc.scope.Allows(st.ID, "") {
			out = append(out, st)
		}
	}
	return out
}

func (h *Handler) consultationNew(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if _, err := h.consultDesk(rc); err != nil {
		return err
	}
	deadline := h.cfg.Now().In(h.cfg.Location).AddDate(0, 0, 30).Format("2006-01-02")
	f := consultationForm{Deadline: deadline, Audience: lianxin.AudienceStation, Station: rc.user.StationID}
	return h.render(w, "consultation_new", consultationNewPage{Base: h.base(r, rc, "新建征求意见"), Form: f, Errors: map[string]string{},
		Stations: h.stationsOf(rc), Audiences: lianxin.Audiences})
}

// maxDraftBytes bounds an uploaded draft: a long regulation's .docx is a
// few hundred kilobytes.
const maxDraftBytes = 8 << 20

func (h *Handler) consultationCreate(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := h.consultDesk(rc)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxDraftBytes+1<<20)
	if err := r.ParseMultipartForm(maxDraftBytes); err != nil && err != http.ErrNotMultipart {
		return lianxin.Errorf(lianxin.EINVALID, "bad form: %v", err)
	}
	f := consultationForm{Title: strings.TrimSpace(r.FormValue("title")), Intro: strings.TrimSpace(r.FormValue("intro")), Text: r.FormValue("text"),
		Deadline: r.FormValue("deadline"), Audience: r.FormValue("audience"), Station: r.FormValue("station")}
	p := consultationNewPage{Base: h.base(r, rc, "新建征求意见"), Form: f, Errors: map[string]string{}, Stations: h.stationsOf(rc), Audiences: lianxin.Audiences}
	if r.MultipartForm != nil {
		if fhs := r.MultipartForm.File["file"]; len(fhs) > 0 && fhs[0].Size > 0 {
			text, problem := readDraftUpload(fhs[0].Filename, func() (io.ReadCloser, error) { return fhs[0].Open() })
			if problem != "" {
				p.Errors["file"] = problem
			} else {
				f.Text = text
			}
		}
	}
	if rc.user.Role == lianxin.RoleStaff {
		f.Station = rc.user.StationID
	}
	p.Form = f
	e, errs := h.consultationEditOf(rc, f)
	for k, v := range errs {
		p.Errors[k] = v
	}
	if len(p.Errors) > 0 {
		return h.render(w, "consultation_new", p, http.StatusBadRequest)
	}
	c, err := d.CreateConsultation(r.Context(), e, rc.user.Ref(), rc.audit(r, "consultation_create", "", e.Title))
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/console/consultations/%d?done=consult_created", c.ID), http.StatusSeeOther)
	return nil
}

// consultationEditOf turns the form into a draft: the text split into its
// articles, the deadline (the end of the day chosen, in the stations' time
// zone), the station within the user's scope.
func (h *Handler) consultationEditOf(rc *reqCtx, f consultationForm) (lianxin.ConsultationEdit, map[string]string) {
	e := lianxin.ConsultationEdit{Title: f.Title, Intro: f.Intro, Audience: f.Audience, StationID: f.Station}
	preamble, arts := lianxin.SplitArticles(f.Text)
	e.Articles = arts
	if e.Intro == "" && preamble != "" {
		var keep []string
		for _, l := range strings.Split(preamble, "\n") {
			if !strings.Contains(l, strings.Trim(f.Title, "《》")) {
				keep = append(keep, l)
			}
		}
		e.Intro = strings.Join(keep, "\n")
	}
	if day, err := time.ParseInLocation("2006-01-02", f.Deadline, h.cfg.Location); err == nil {
		e.Deadline = day.Add(24*time.Hour - time.Second)
	}
	errs := e.Validate()
	if _, ok := rc.dir.Station(f.Station); !ok || !rc.scope.Allows(f.Station, "") {
		errs["station"] = "station_required"
	}
	if !e.Deadline.IsZero() && !e.Deadline.After(h.cfg.Now()) {
		errs["deadline"] = "consult_deadline_past"
	}
	return e, errs
}

// readDraftUpload reads an uploaded draft: a .docx (its paragraphs) or a
// UTF-8 plain text. problem is the key of the message shown instead.
func readDraftUpload(name string, open func() (io.ReadCloser, error)) (text, problem string) {
	rd, err := open()
	if err != nil {
		return "", "consult_file_bad"
	}
	defer rd.Close()
	b, err := io.ReadAll(io.LimitReader(rd, maxDraftBytes+1))
	if err != nil || len(b) > maxDraftBytes {
		return "", "consult_file_large"
	}
	switch strings.ToLower(path.Ext(name)) {
	case ".docx":
		t, err := DocxText(b)
		if err != nil {
			return "", "consult_file_bad"
		}
		return t, ""
	case ".txt", "":
		b = bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))
		if !utf8Valid(b) {
			return "", "consult_file_encoding"
		}
		return string(b), ""
	}
	return "", "consult_file_type"
}

type consultationPage struct {
	Base
	C         *lianxin.Consultation
	Station   string
	Seen      int64
	Draft     bool
	Sends     []lianxin.MassSend
	Used      int
	Quota     int
	PublicURL string
	Articles  []articleReview
	Whole     articleReview
	Opinions  int
	Undecided int
	Deputies  []lianxin.Deputy
	Errors    map[string]string
}

// articleReview is an article with its opinions for review.
type articleReview struct {
	lianxin.Article
	Opinions []opinionView
	Count    int
}

type opinionView struct {
	lianxin.Opinion
	Number  string
	Primary string // the number of the opinion it was merged into
	Deputy  string
}

func (h *Handler) loadConsultation(r *http.Request, rc *reqCtx) (ConsultationDesk, *lianxin.Consultation, error) {
	d, err := h.consultDesk(rc)
	if err != nil {
		return nil, nil, err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return nil, nil, lianxin.Errorf(lianxin.ENOTFOUND, "no consultation %q", r.PathValue("id"))
	}
	c, err := d.Consultation(r.Context(), rc.scope, id)
	return d, c, err
}

func (h *Handler) consultationPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, c, err := h.loadConsultation(r, rc)
	if err != nil {
		return err
	}
	p, err := h.consultationPageData(r, rc, d, c)
	if err != nil {
		return err
	}
	return h.render(w, "consultation", p)
}

func (h *Handler) consultationPageData(r *http.Request, rc *reqCtx, d ConsultationDesk, c *lianxin.Consultation) (*consultationPage, error) {
	ctx := r.Context()
	p := &consultationPage{Base: h.base(r, rc, c.Title), C: c, Station: stationName(rc.dir, c.StationID), Seen: c.UpdatedAt.UnixNano(),
		Draft: c.Status == lianxin.ConsultDraft, Quota: d.MassQuota(), Errors: map[string]string{}}
	if h.cfg.PublicURL != "" {
		p.PublicURL = ConsultationLink(h.cfg.PublicURL, c.ID)
	}
	var err error
	if p.Sends, err = d.MassSends(ctx, fmt.Sprintf("consultation:%d", c.ID)); err != nil {
		return nil, err
	}
	tag := ""
	if c.Audience == lianxin.AudienceStation {
		tag = lianxin.StationTag(c.StationID)
	}
	if p.Used, err = d.MassSendsUsed(ctx, h.cfg.Now().In(h.cfg.Location).Format("2006-01"), tag); err != nil {
		return nil, err
	}
	p.Used = min(p.Used, p.Quota)
	ops, err := d.Opinions(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	numbers := map[int64]string{}
	for _, o := range ops {
		numbers[o.ID] = lianxin.OpinionNumber(c.ID, o.N)
	}
	bySeq := map[int][]opinionView{}
	for _, o := range ops {
		v := opinionView{Opinion: o, Number: numbers[o.ID], Primary: numbers[o.MergedInto], Deputy: deputyName(rc.dir, o.DeputyID)}
		bySeq[o.ArticleSeq] = append(bySeq[o.ArticleSeq], v)
		p.Opinions++
		if o.MergedInto == 0 && o.Outcome == "" {
			p.Undecided++
		}
	}
	for _, a := range c.Articles {
		p.Articles = append(p.Articles, articleReview{Article: a, Opinions: bySeq[a.Seq], Count: len(bySeq[a.Seq])})
	}
	p.Whole = articleReview{Article: lianxin.Article{Label: "草案整体"}, Opinions: bySeq[0], Count: len(bySeq[0])}
	for _, dep := range rc.dir.Deputies {
		if st, ok := rc.dir.StationOf(dep.StationID); ok && st.ID == c.StationID {
			p.Deputies = append(p.Deputies, dep)
		}
	}
	return p, nil
}

// consultationEdit saves a draft: its articles as edited one by one (an
// article left empty is removed), or the whole text split again.
func (h *Handler) consultationEdit(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, c, err := h.loadConsultation(r, rc)
	if err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return lianxin.Errorf(lianxin.EINVALID, "bad form: %v", err)
	}
	e := lianxin.ConsultationEdit{Title: strings.TrimSpace(r.FormValue("title")), Intro: strings.TrimSpace(r.FormValue("intro")),
		StationID: c.StationID, Audience: r.FormValue("audience"), Deadline: c.Deadline}
	if day, err := time.ParseInLocation("2006-01-02", r.FormValue("deadline"), h.cfg.Location); err == nil {
		e.Deadline = day.Add(24*time.Hour - time.Second)
	}
	if text := r.FormValue("text"); strings.TrimSpace(text) != "" {
		_, e.Articles = lianxin.SplitArticles(text)
	} else {
		labels, chapters, texts := r.Form["label"], r.Form["chapter"], r.Form["article"]
		for i, t := range texts {
			if strings.TrimSpace(t) == "" {
				continue
			}
			a := lianxin.Article{Text: t}
			if i < len(labels) {
				a.Label = labels[i]
			}
			if i < len(chapters) {
				a.Chapter = chapters[i]
			}
			if strings.TrimSpace(a.Label) == "" {
				a.Label = fmt.Sprintf("第%d条", len(e.Articles)+1)
			}
			e.Articles = append(e.Articles, a)
		}
	}
	seen, _ := strconv.ParseInt(r.FormValue("seen"), 10, 64)
	errs := e.Validate()
	if !e.Deadline.After(h.cfg.Now()) {
		errs["deadline"] = "consult_deadline_past"
	}
	if len(errs) == 0 {
		err = d.UpdateConsultation(r.Context(), rc.scope, c.ID, time.Unix(0, seen), e, rc.audit(r, "consultation_edit", "", e.Title))
		if code := lianxin.ErrorCode(err); code == lianxin.ECONFLICT {
			errs["form"] = "consult_changed"
		} else if err != nil {
			return err
		}
	}
	if len(errs) > 0 {
		c2, err := d.Consultation(r.Context(), rc.scope, c.ID)
		if err != nil {
			return err
		}
		p, err := h.consultationPageData(r, rc, d, c2)
		if err != nil {
			return err
		}
		p.Errors = errs
		return h.render(w, "consultation", p, http.StatusBadRequest)
	}
	http.Redirect(w, r, fmt.Sprintf("/console/consultations/%d?done=saved", c.ID), http.StatusSeeOther)
	return nil
}

func (h *Handler) consultationPublish(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, c, err := h.loadConsultation(r, rc)
	if err != nil {
		return err
	}
	err = d.Publish(r.Context(), rc.scope, c.ID, rc.user, clientAddr(r))
	problem := ""
	switch {
	case errors.Is(err, lianxin.ErrMassQuota):
		problem = "consult_quota"
	case errors.Is(err, lianxin.ErrNoInformants):
		problem = "consult_no_informants"
	case errors.Is(err, lianxin.ErrDeadlinePassed):
		problem = "consult_deadline_past"
	case lianxin.ErrorCode(err) == lianxin.ECONFLICT:
		problem = "consult_changed"
	case err != nil:
		return err
	}
	if problem != "" {
		p, err := h.consultationPageData(r, rc, d, c)
		if err != nil {
			return err
		}
		p.Errors["publish"] = problem
		return h.render(w, "consultation", p, http.StatusConflict)
	}
	http.Redirect(w, r, fmt.Sprintf("/console/consultations/%d?done=consult_published", c.ID), http.StatusSeeOther)
	return nil
}

func (h *Handler) consultationConclude(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, c, err := h.loadConsultation(r, rc)
	if err != nil {
		return err
	}
	if _, err := d.Conclude(r.Context(), rc.scope, c.ID, rc.user, clientAddr(r)); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/console/consultations/%d?done=consult_concluded", c.ID), http.StatusSeeOther)
	return nil
}

// opinionReview is one review action on an opinion: its outcome and
// reason, merging it into another (by number), or undoing a merge.
func (h *Handler) opinionReview(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, c, err := h.loadConsultation(r, rc)
	if err != nil {
		return err
	}
	oid, err := strconv.ParseInt(r.PathValue("oid"), 10, 64)
	if err != nil {
		return lianxin.Errorf(lianxin.ENOTFOUND, "no opinion %q", r.PathValue("oid"))
	}
	rv := lianxin.OpinionReview{OpinionID: oid}
	detail := ""
	switch r.FormValue("op") {
	case "merge":
		target, ok := opinionByNumber(r.Context(), d, c, r.FormValue("into"))
		if !ok {
			return h.reviewProblem(w, r, rc, d, c, "consult_merge_unknown")
		}
		rv.MergeInto, detail = target, "merge "+r.FormValue("into")
	case "unmerge":
		rv.Unmerge, detail = true, "unmerge"
	default:
		rv.Outcome, rv.Reason = r.FormValue("outcome"), strings.TrimSpace(r.FormValue("reason"))
		if rv.Outcome != "" && !slices.Contains(lianxin.OpinionOutcomes, rv.Outcome) {
			return lianxin.Errorf(lianxin.EINVALID, "no outcome %q", rv.Outcome)
		}
		if len([]rune(rv.Reason)) > maxText {
			return h.reviewProblem(w, r, rc, d, c, "text_too_long")
		}
		detail = rv.Outcome + " " + rv.Reason
	}
	rv.Audit = rc.audit(r, "opinion_review", "", fmt.Sprintf("#%d %s", oid, detail))
	if err := d.ReviewOpinion(r.Context(), rc.scope, c.ID, rv); lianxin.ErrorCode(err) == lianxin.EINVALID {
		return h.reviewProblem(w, r, rc, d, c, "consult_merge_unknown")
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/console/consultations/%d?done=saved#o%d", c.ID, oid), http.StatusSeeOther)
	return nil
}

func (h *Handler) reviewProblem(w http.ResponseWriter, r *http.Request, rc *reqCtx, d ConsultationDesk, c *lianxin.Consultation, key string) error {
	p, err := h.consultationPageData(r, rc, d, c)
	if err != nil {
		return err
	}
	p.Errors["review"] = key
	return h.render(w, "consultation", p, http.StatusBadRequest)
}

// opinionByNumber finds an opinion of the consultation by its number as
// staff type it: YJ3-012, 3-12 or 12.
func opinionByNumber(ctx context.Context, d ConsultationDesk, c *lianxin.Consultation, ref string) (int64, bool) {
	ref = strings.ToUpper(strings.TrimSpace(ref))
	if _, after, ok := strings.Cut(ref, "-"); ok {
		ref = after
	}
	n, err := strconv.Atoi(strings.TrimLeft(ref, "YJ"))
	if err != nil {
		return 0, false
	}
	ops, err := d.Opinions(ctx, c.ID)
	if err != nil {
		return 0, false
	}
	for _, o := range ops {
		if o.N == n {
			return o.ID, true
		}
	}
	return 0, false
}

func (h *Handler) articleRecommend(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, c, err := h.loadConsultation(r, rc)
	if err != nil {
		return err
	}
	seq, err := strconv.Atoi(r.PathValue("seq"))
	if err != nil {
		return lianxin.Errorf(lianxin.ENOTFOUND, "no article %q", r.PathValue("seq"))
	}
	text := r.FormValue("recommendation")
	if len([]rune(text)) > maxText {
		return h.reviewProblem(w, r, rc, d, c, "text_too_long")
	}
	if err := d.SetRecommendation(r.Context(), rc.scope, c.ID, seq, text, rc.audit(r, "consultation_recommend", "", fmt.Sprintf("%d %s", seq, text))); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/console/consultations/%d?done=saved#a%d", c.ID, seq), http.StatusSeeOther)
	return nil
}

// opinionRecord records an opinion staff took down (a 座谈会, a letter),
// with the deputy who gathered it, if any.
func (h *Handler) opinionRecord(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, c, err := h.loadConsultation(r, rc)
	if err != nil {
		return err
	}
	if c.Status == lianxin.ConsultDraft {
		return lianxin.Errorf(lianxin.ECONFLICT, "consultation %d is a draft", c.ID)
	}
	seq, _ := strconv.Atoi(r.FormValue("article"))
	text := strings.TrimSpace(r.FormValue("text"))
	phone := strings.ReplaceAll(strings.TrimSpace(r.FormValue("phone")), " ", "")
	deputy := r.FormValue("deputy")
	switch {
	case len([]rune(text)) < 2:
		return h.reviewProblem(w, r, rc, d, c, "text_required")
	case len([]rune(text)) > 2000:
		return h.reviewProblem(w, r, rc, d, c, "text_too_long")
	case phone != "" && !phoneRE.MatchString(phone):
		return h.reviewProblem(w, r, rc, d, c, "phone_invalid")
	}
	if _, ok := rc.dir.Deputy(deputy); deputy != "" && !ok {
		return h.reviewProblem(w, r, rc, d, c, "deputy_required")
	}
	if seq != 0 && !slices.ContainsFunc(c.Articles, func(a lianxin.Article) bool { return a.Seq == seq }) {
		return h.reviewProblem(w, r, rc, d, c, "invalid")
	}
	key := ""
	if token := r.FormValue("token"); token != "" {
		key = "console:" + token // the form sent twice records it once
	}
	o, _, err := d.AddOpinion(r.Context(), lianxin.NewOpinion{ConsultationID: c.ID, ArticleSeq: seq, DeputyID: deputy,
		Name: strings.TrimSpace(r.FormValue("name")), Phone: phone, Text: text, Source: "console", SourceKey: key,
		Audit: []lianxin.AuditEntry{rc.audit(r, "opinion_record", "", text)}})
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/console/consultations/%d?done=consult_recorded#o%d", c.ID, o.ID), http.StatusSeeOther)
	return nil
}

// consultationExport serves the written suggestions: 书面建议.xlsx, .html
// (printable) or .pdf (through Chromium, when the server has it).
func (h *Handler) consultationExport(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, c, err := h.loadConsultation(r, rc)
	if err != nil {
		return err
	}
	format := strings.TrimPrefix(path.Ext(r.PathValue("file")), ".")
	types := map[string]string{"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "html": "text/html; charset=utf-8", "pdf": "application/pdf"}
	ctype, ok := types[format]
	if !ok {
		return lianxin.Errorf(lianxin.ENOTFOUND, "no export %q", r.PathValue("file"))
	}
	if c.Status == lianxin.ConsultDraft {
		return lianxin.Errorf(lianxin.ECONFLICT, "consultation %d is a draft", c.ID)
	}
	var buf bytes.Buffer
	if err := d.ExportSuggestions(r.Context(), rc.scope, c.ID, format, &buf); err != nil {
		return err
	}
	if err := h.cfg.Store.Audit(r.Context(), rc.audit(r, "consultation_export", fmt.Sprintf("consultation:%d", c.ID), format)); err != nil {
		return err
	}
	name := fmt.Sprintf("关于《%s》的书面建议.%s", c.Title, format)
	w.Header().Set("Content-Type", ctype)
	if format != "html" {
		w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(name))
	}
	if format == "html" {
		// The document's own style is inline: allow it for this page only.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'")
	}
	_, err = buf.WriteTo(w)
	return err
}

// publicPage is the public draft: no sign-in, nothing about who said what.
type publicPage struct {
	C        *lianxin.Consultation
	Station  string
	Article  *lianxin.Article
	Prev     *lianxin.Article
	Next     *lianxin.Article
	Deadline time.Time
	Closed   bool
}

// forResidents serves a public page: a draft that is not there is told to
// the resident in their words, not with the console's error page (its
// brand and a link to the register, which only asks them to sign in).
func (h *Handler) forResidents(f pageFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := f(w, r, nil)
		if lianxin.ErrorCode(err) != lianxin.ENOTFOUND {
			if err != nil {
				h.renderError(w, r, nil, err)
			}
			return
		}
		t, ok := h.pages["consultation_public"]
		var b bytes.Buffer
		if !ok || t.ExecuteTemplate(&b, "public_missing", nil) != nil {
			h.renderError(w, r, nil, err)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		b.WriteTo(w)
	})
}

func (h *Handler) publicConsultation(w http.ResponseWriter, r *http.Request, _ *reqCtx) error {
	d, err := h.consultDesk(nil)
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return lianxin.Errorf(lianxin.ENOTFOUND, "no consultation %q", r.PathValue("id"))
	}
	c, err := d.PublicConsultation(r.Context(), id)
	if err != nil {
		return err
	}
	dir, _ := h.cfg.Casework.Directory()
	p := publicPage{C: c, Station: stationName(dir, c.StationID), Deadline: c.Deadline.In(h.cfg.Location),
		Closed: c.Status == lianxin.ConsultConcluded || h.cfg.Now().After(c.Deadline)}
	if s := r.PathValue("seq"); s != "" {
		seq, err := strconv.Atoi(s)
		if err != nil || seq < 1 || seq > len(c.Articles) {
			return lianxin.Errorf(lianxin.ENOTFOUND, "no article %q", s)
		}
		p.Article = &c.Articles[seq-1]
		if seq > 1 {
			p.Prev = &c.Articles[seq-2]
		}
		if seq < len(c.Articles) {
			p.Next = &c.Articles[seq]
		}
	}
	t, ok := h.pages["consultation_public"]
	if !ok {
		return fmt.Errorf("web: no public page template")
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "public", p); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err = b.WriteTo(w)
	return err
}

// practiceFuncs are the template functions issue 14's pages add.
func (h *Handler) practiceFuncs() map[string]any {
	return map[string]any{
		// reporter names who reported a case for its resident (grid:ID).
		"reporter": func(ref string) string {
			if h.cfg.Casework == nil {
				return ref
			}
			dir, _ := h.cfg.Casework.Directory()
			if w, g, ok := dir.GridWorker(strings.TrimPrefix(ref, lianxin.GridRecipientPrefix)); ok {
				return g.Name + " " + w.Name
			}
			return ref
		},
		"audiences": func() []string { return lianxin.Audiences },
		"outcomes":  func() []string { return lianxin.OpinionOutcomes },
		"dict": func(kv ...any) map[string]any {
			m := map[string]any{}
			for i := 0; i+1 < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m
		},
		"metres":     func(p, q lianxin.Point) int { return int(lianxin.DistanceM(p, q) + 0.5) },
		"massReason": massReason,
	}
}

// massReason is why a push was not sent, as the clerk reads it: WeChat's
// (English) error becomes Chinese, with what to do about a missing tag.
func massReason(lastError string) string {
	if lastError == "" {
		return ""
	}
	if _, tag, ok := strings.Cut(lastError, "no tag named "); ok {
		return strings.ReplaceAll(label("mass_err", "no_tag"), "{tag}", tag)
	}
	return label("mass_err", "other") + lastError
}
