package web

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// Recurring problems (每月一题): /console/clusters groups similar cases
// (same category, each within a radius of another, registered in a
// period) within the user's scope, each group with how many residents it
// concerns (supporters who said 同一件 included); staff or a deputy turn a
// group into a suggestion (建议), which /console/suggestions/{id} follows:
// its cases, counts, places, summary, its own timeline, progress, 交办
// and the answer, which tells the residents of every case in it.

// SuggestionDesk is what those pages read and do: the store's reads, and
// proposing and acting through the engine (which words the notices).
type SuggestionDesk interface {
	SimilarCandidates(ctx context.Context, scope lianxin.Scope, from, to time.Time) ([]lianxin.CaseRow, error)
	Suggestions(ctx context.Context, scope lianxin.Scope) ([]lianxin.Suggestion, error)
	Suggestion(ctx context.Context, scope lianxin.Scope, id int64) (*lianxin.Suggestion, error)
	ProposeSuggestion(ctx context.Context, scope lianxin.Scope, actor lianxin.User, numbers []string, title, summary, addr string) (*lianxin.Suggestion, error)
	ActOnSuggestion(ctx context.Context, scope lianxin.Scope, actor lianxin.User, id int64, verb, text, departmentID, addr string) error
}

func (h *Handler) suggestionRoutes() {
	m := h.mux
	m.Handle("GET /console/clusters", h.auth(h.clustersPage))
	m.Handle("GET /console/suggestions", h.auth(h.suggestionsPage))
	m.Handle("POST /console/suggestions", h.auth(h.suggestionCreate))
	m.Handle("GET /console/suggestions/{id}", h.auth(h.suggestionPage))
	m.Handle("POST /console/suggestions/{id}/{verb}", h.auth(h.suggestionAct))
}

func (h *Handler) suggestionDesk() (SuggestionDesk, error) {
	if h.cfg.Suggestions == nil {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "suggestions are not wired")
	}
	return h.cfg.Suggestions, nil
}

type clustersPage struct {
	Base
	Groups  []groupView
	Days    int
	RadiusM int
	Min     int
	From    time.Time
}

type groupView struct {
	lianxin.CaseGroup
	Name    string
	Station string
	Places  []string
	Place   string // where it is, as residents named it, for the title
	Numbers string // the cases' numbers, for the form
}

// Bounds of the clusters page's parameters.
const (
	defaultClusterDays   = 90
	defaultClusterRadius = 250
)

func intParam(r *http.Request, name string, def, lo, hi int) int {
	n, err := strconv.Atoi(r.URL.Query().Get(name))
	if err != nil {
		return def
	}
	return max(lo, min(hi, n))
}

func (h *Handler) clustersPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := h.suggestionDesk()
	if err != nil {
		return err
	}
	p := clustersPage{Base: h.base(r, rc, "同类问题"), Days: intParam(r, "days", defaultClusterDays, 7, 730),
		RadiusM: intParam(r, "radius", defaultClusterRadius, 20, 5000), Min: intParam(r, "min", 2, 2, 50)}
	now := h.cfg.Now()
	p.From = now.AddDate(0, 0, -p.Days)
	rows, err := d.SimilarCandidates(r.Context(), rc.scope, p.From, now.Add(time.Minute))
	if err != nil {
		return err
	}
	for _, g := range lianxin.GroupSimilar(rows, float64(p.RadiusM), p.Min, func(c lianxin.CaseRow) int { return 1 + c.Supporters }) {
		v := groupView{CaseGroup: g, Name: rc.cats.Name(g.Category)}
		var numbers []string
		seenPlace, stations := map[string]bool{}, map[string]int{}
		for _, c := range g.Cases {
			numbers = append(numbers, c.Number)
			if pl := c.Location.String(); pl != "" && !seenPlace[pl] {
				seenPlace[pl] = true
				v.Places = append(v.Places, pl)
			}
			if named := c.Location.Address + c.Location.Label; v.Place == "" && named != "" {
				v.Place = c.Location.String()
			}
			stations[stationName(rc.dir, c.StationID)]++
		}
		best := 0
		for name, n := range stations {
			if n > best || n == best && name < v.Station {
				v.Station, best = name, n
			}
		}
		v.Numbers = strings.Join(numbers, " ")
		p.Groups = append(p.Groups, v)
	}
	return h.render(w, "clusters", p)
}

type suggestionsPage struct {
	Base
	List []lianxin.Suggestion
}

func (h *Handler) suggestionsPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := h.suggestionDesk()
	if err != nil {
		return err
	}
	list, err := d.Suggestions(r.Context(), rc.scope)
	if err != nil {
		return err
	}
	return h.render(w, "suggestions", suggestionsPage{Base: h.base(r, rc, "代表建议"), List: list})
}

func (h *Handler) suggestionCreate(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := h.suggestionDesk()
	if err != nil {
		return err
	}
	numbers := strings.Fields(r.FormValue("cases"))
	title, summary := strings.TrimSpace(r.FormValue("title")), strings.TrimSpace(r.FormValue("summary"))
	switch {
	case len(numbers) == 0:
		return lianxin.Errorf(lianxin.EINVALID, "a suggestion needs cases")
	case title == "" || len([]rune(title)) > 100:
		return lianxin.Errorf(lianxin.EINVALID, "a suggestion needs a title of at most 100 characters")
	case summary == "" || len([]rune(summary)) > 4000:
		return lianxin.Errorf(lianxin.EINVALID, "a suggestion needs a summary of at most 4000 characters")
	}
	s, err := d.ProposeSuggestion(r.Context(), rc.scope, rc.user, numbers, title, summary, clientAddr(r))
	if err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/console/suggestions/%d?done=suggestion_created", s.ID), http.StatusSeeOther)
	return nil
}

type suggestionPage struct {
	Base
	S        *lianxin.Suggestion
	Category string
	Station  string
	Places   []string
	Depts    []lianxin.Department
	Open     bool
	Names    map[string]string // stations, for the cases
}

func (h *Handler) suggestionPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := h.suggestionDesk()
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return lianxin.Errorf(lianxin.ENOTFOUND, "no suggestion %q", r.PathValue("id"))
	}
	s, err := d.Suggestion(r.Context(), rc.scope, id)
	if err != nil {
		return err
	}
	p := suggestionPage{Base: h.base(r, rc, s.Title), S: s, Category: rc.cats.Name(s.Category), Station: stationName(rc.dir, s.StationID),
		Depts: rc.dir.Departments, Open: s.Status != lianxin.SuggestionAnswered, Names: map[string]string{}}
	seen := map[string]bool{}
	for _, c := range s.Cases {
		if pl := c.Location.String(); pl != "" && !seen[pl] {
			seen[pl] = true
			p.Places = append(p.Places, pl)
		}
		p.Names[c.StationID] = stationName(rc.dir, c.StationID)
	}
	return h.render(w, "suggestion", p)
}

func (h *Handler) suggestionAct(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	d, err := h.suggestionDesk()
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return lianxin.Errorf(lianxin.ENOTFOUND, "no suggestion %q", r.PathValue("id"))
	}
	verb, text := r.PathValue("verb"), strings.TrimSpace(r.FormValue("text"))
	if len([]rune(text)) > maxText {
		return lianxin.Errorf(lianxin.EINVALID, "text too long")
	}
	if err := d.ActOnSuggestion(r.Context(), rc.scope, rc.user, id, verb, text, r.FormValue("department"), clientAddr(r)); err != nil {
		return err
	}
	http.Redirect(w, r, fmt.Sprintf("/console/suggestions/%d?done=suggestion_%s", id, verb), http.StatusSeeOther)
	return nil
}
