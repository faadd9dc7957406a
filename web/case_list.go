package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// The case list (/console/cases): every filter is in the URL, so a view can
// be bookmarked and exported exactly as shown.

type caseListPage struct {
	Base
	Query     url.Values // the filters as given, for links that keep them
	Page      *lianxin.CasePage
	Statuses  []lianxin.Status
	Stations  []lianxin.Station
	Cats      lianxin.Categories
	Deputies  []lianxin.Deputy
	Sources   []string
	Rows      []caseRowView
	Prev      string
	Next      string
	CanAssign bool
	Total     int
	// The register's exports of this very view, and what a figure's
	// link narrowed it to (issue 13).
	ExportXLSX, ExportCSV, ExportFull string
	Measure                           lianxin.Measure
	Period                            string
}

type caseRowView struct {
	lianxin.CaseRow
	Station  string
	Category string
	Deputy   string
	SLA      lianxin.SLAState
}

var allStatuses = []lianxin.Status{lianxin.StatusRegistered, lianxin.StatusAccepted, lianxin.StatusForwarded,
	lianxin.StatusReopened, lianxin.StatusResolved, lianxin.StatusCancelled}

// parseCaseQuery reads the list's filters from the URL; a value the list
// does not know is an EINVALID error, so a mistyped bookmark says so
// instead of silently showing everything.
func (h *Handler) parseCaseQuery(v url.Values, rc *reqCtx) (lianxin.CaseQuery, error) {
	q := lianxin.CaseQuery{Now: h.cfg.Now(), Thresholds: rc.cats.Thresholds(h.cfg.RemindAt)}
	for _, s := range v["status"] {
		for _, one := range strings.Split(s, ",") {
			if one == "" {
				continue
			}
			if !slices.Contains(allStatuses, lianxin.Status(one)) {
				return q, lianxin.Errorf(lianxin.EINVALID, "unknown status %q", one)
			}
			q.Status = append(q.Status, lianxin.Status(one))
		}
	}
	if id := v.Get("station"); id == districtParam {
		q.Units = []string{""}
	} else if id != "" {
		st, ok := rc.dir.Station(id)
		if !ok {
			return q, lianxin.Errorf(lianxin.EINVALID, "unknown station %q", id)
		}
		if st.Kind == lianxin.PointKind {
			q.Units = []string{st.ID}
		} else {
			q.Units = rc.dir.Unit(st.ID)
		}
	}
	if c := v.Get("category"); c != "" {
		if _, ok := rc.cats.ByKey(c); !ok {
			return q, lianxin.Errorf(lianxin.EINVALID, "unknown category %q", c)
		}
		q.Category = c
	}
	q.Deputy = v.Get("deputy")
	switch s := lianxin.SLAState(v.Get("sla")); s {
	case "", lianxin.SLAGreen, lianxin.SLAYellow, lianxin.SLARed:
		q.SLA = s
	default:
		return q, lianxin.Errorf(lianxin.EINVALID, "unknown SLA colour %q", s)
	}
	if s := v.Get("source"); s != "" {
		if !slices.Contains(lianxin.Sources, s) {
			return q, lianxin.Errorf(lianxin.EINVALID, "unknown source %q", s)
		}
		q.Source = s
	}
	if s := v.Get("queue"); s != "" {
		if !slices.Contains(lianxin.Queues, s) {
			return q, lianxin.Errorf(lianxin.EINVALID, "unknown queue %q", s)
		}
		q.Queue = s
	}
	for _, f := range []struct {
		name string
		dst  *time.Time
		add  int
	}{{"from", &q.From, 0}, {"to", &q.To, 1}} {
		if s := v.Get(f.name); s != "" {
			d, err := time.ParseInLocation("2006-01-02", s, h.cfg.Location)
			if err != nil {
				return q, lianxin.Errorf(lianxin.EINVALID, "bad date %s=%q", f.name, s)
			}
			*f.dst = d.AddDate(0, 0, f.add) // "to" includes its whole day
		}
	}
	// What the numbers' links add (register.go's listURL): a figure's
	// measure over a month or dates, exact units, typical cases.
	units, err := unitsParam(v, rc.dir)
	if err != nil {
		return q, err
	}
	q.Units = append(q.Units, units...)
	if m := lianxin.Measure(v.Get("measure")); !m.Valid() {
		return q, lianxin.Errorf(lianxin.EINVALID, "unknown measure %q", m)
	} else {
		q.Measure = m
	}
	if s := v.Get("month"); s != "" {
		from, to, err := lianxin.MonthRange(s, h.cfg.Location)
		if err != nil {
			return q, lianxin.Errorf(lianxin.EINVALID, "bad month: %v", err)
		}
		q.From, q.To = from, to
	}
	q.Typical = v.Get("typical") == "1"
	q.Search = strings.TrimSpace(v.Get("q"))
	switch s := v.Get("sort"); s {
	case "", lianxin.SortNewest, lianxin.SortOldest, lianxin.SortDue, lianxin.SortUpdated:
		q.Sort = s
	default:
		return q, lianxin.Errorf(lianxin.EINVALID, "unknown sort %q", s)
	}
	if p := v.Get("page"); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 {
			return q, lianxin.Errorf(lianxin.EINVALID, "bad page %q", p)
		}
		q.Page = n
	}
	q.PerPage = 50
	return q, nil
}

func (h *Handler) caseList(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	v := r.URL.Query()
	q, err := h.parseCaseQuery(v, rc)
	if err != nil {
		return err
	}
	page, err := h.cfg.Store.CaseList(r.Context(), rc.scope, q)
	if err != nil {
		return err
	}
	p := caseListPage{Base: h.base(r, rc, "案件登记簿"), Query: v, Page: page, Statuses: allStatuses, Cats: rc.cats,
		Sources: lianxin.Sources, CanAssign: rc.staffOnly() == nil, Total: page.Total}
	for _, st := range rc.dir.Stations {
		if rc.scope.All || slices.Contains(rc.scope.Units, st.ID) {
			p.Stations = append(p.Stations, st)
		}
	}
	for _, d := range rc.dir.Deputies {
		if rc.scope.All || slices.Contains(rc.scope.Units, d.StationID) || d.ID == rc.scope.DeputyID {
			p.Deputies = append(p.Deputies, d)
		}
	}
	if h.cfg.Reports != nil {
		p.ExportXLSX, p.ExportCSV, p.ExportFull = exportLinks(v)
		if !p.CanAssign {
			p.ExportFull = ""
		}
	}
	p.Measure = q.Measure
	if q.Measure != "" || v.Get("month") != "" {
		p.Period = periodText(q, h.cfg.Location)
	}
	now := h.cfg.Now()
	for _, c := range page.Cases {
		cat, _ := rc.cats.ByKey(c.CategoryKey)
		row := caseRowView{CaseRow: c, Station: stationName(rc.dir, c.StationID), Category: rc.cats.Name(c.CategoryKey),
			Deputy: deputyName(rc.dir, c.AssigneeID), SLA: c.SLA(now, h.cfg.RemindAt, cat)}
		p.Rows = append(p.Rows, row)
	}
	if page.Page > 1 {
		p.Prev = withParams(v, "page", strconv.Itoa(page.Page-1))
	}
	if page.Page < page.Pages {
		p.Next = withParams(v, "page", strconv.Itoa(page.Page+1))
	}
	return h.render(w, "cases", p)
}

// bulkAssign gives the ticked cases to one deputy, each as its own action
// (its own transaction, event, notice and audit entry).
func (h *Handler) bulkAssign(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.staffOnly(); err != nil {
		return err
	}
	if err := r.ParseForm(); err != nil {
		return lianxin.Errorf(lianxin.EINVALID, "bad form: %v", err)
	}
	deputy := r.PostFormValue("deputy")
	if d, ok := rc.dir.Deputy(deputy); !ok || !rc.mayAssignTo(d) {
		return lianxin.Errorf(lianxin.EINVALID, "no deputy %q of the user's stations", deputy)
	}
	for _, n := range r.PostForm["case"] {
		_, err := h.cfg.Casework.Act(r.Context(), lianxin.CaseAction{Verb: lianxin.ActAssign, Number: n, Actor: rc.user, Scope: rc.scope,
			Addr: clientAddr(r), IdemKey: r.PostFormValue("token") + ":" + n, DeputyID: deputy})
		// A case that moved meanwhile (or is already that deputy's) is
		// left as it is; the list shows where each one stands.
		if c := lianxin.ErrorCode(err); c != "" && c != lianxin.ECONFLICT && c != lianxin.EINVALID {
			return err
		}
	}
	back := safeNext(r.PostFormValue("back"))
	sep := "?"
	if strings.Contains(back, "?") {
		sep = "&"
	}
	http.Redirect(w, r, back+sep+"done=assigned", http.StatusSeeOther)
	return nil
}

func stationName(dir *lianxin.Directory, id string) string {
	if id == "" {
		return ""
	}
	if st, ok := dir.Station(id); ok {
		return st.Name
	}
	return id
}

func deputyName(dir *lianxin.Directory, id string) string {
	if id == "" {
		return ""
	}
	if d, ok := dir.Deputy(id); ok {
		return d.Name
	}
	return id
}
