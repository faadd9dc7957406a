package flows

import (
	"context"
	"errors"
	"strings"

	"github.com/lianxin/lianxin"
)

// Grid workers (网格员) in chat. A worker binds with a code from staff
// (绑定 CODE, like a deputy), then:
//   - 代报: reports on behalf of a resident who told them in the grid's
//     group or on their rounds: first who (name and phone, or 匿名), then
//     the usual report, with the photos they forward from the group. The
//     case records both, counts under the source 网格, tells the resident
//     when their WeChat is known (from the phone they left on an earlier
//     report), and the worker follows it.
//   - 我的网格: the grid's cases, open first; 进度 N shows one of them.

// GridStore is what grid workers' chat reads and writes (store.DB).
type GridStore interface {
	BindGrid(ctx context.Context, code, openid string) (string, bool, error)
	GridWorkerByOpenID(ctx context.Context, openid string) (string, bool, error)
	GridCases(ctx context.Context, gridID string, limit int) ([]lianxin.Case, error)
	ResidentByPhone(ctx context.Context, phone string) (string, bool, error)
}

var gridTexts = []string{
	"grid_bind_ok", "grid_help", "grid_not_worker", "grid_proxy_who", "grid_proxy_who_bad", "grid_proxy_started",
	"grid_proxy_anonymous", "grid_my", "grid_my_empty", "grid_case_line", "grid_finish_first", "summary_proxy",
	"summary_proxy_anonymous", "grid_submitted_told", "grid_submitted_untold", "grid_told_resident", "grid_created",
	"timeline_grid_created",
}

func (e *Engine) grids() (GridStore, bool) {
	gs, ok := e.cfg.Store.(GridStore)
	return gs, ok
}

// proxyResident is who a grid worker reports for, kept with the draft.
// It is never changed once set (sessions are cloned shallowly).
type proxyResident struct {
	Worker string `json:"w"`
	Name   string `json:"n,omitempty"`
	Phone  string `json:"p,omitempty"`
	Anon   bool   `json:"a,omitempty"`
}

var (
	wordsProxy  = set("代报", "代为反映", "帮群众反映", "代群众反映", "网格代报")
	wordsMyGrid = set("我的网格", "网格", "网格事项", "网格进度")
	wordsAnon   = set("匿名", "不留名", "不愿留名", "群众匿名")
)

// bindGrid binds the sender as the grid worker a code was made for. ok is
// false when the code is no grid worker's: it is then a deputy's (or
// wrong), which bind tries next.
func (t *turn) bindGrid(code string) (string, bool) {
	gs, ok := t.e.grids()
	if !ok {
		return "", false
	}
	t.st.wrote = true
	id, found, err := gs.BindGrid(t.ctx, code, t.m.OpenID)
	switch {
	case errors.Is(err, lianxin.ErrTooManyTries):
		return t.txt("bind_locked"), true
	case err != nil:
		t.e.log.Error("binding a grid worker failed", "err", err)
		return t.txt("error"), true
	case !found:
		return "", false
	}
	w, g, _ := t.dir.GridWorker(id)
	return t.txt("grid_bind_ok", "name", w.Name, "grid", g.Name, "station", t.stationName(g.StationID), "help", t.txt("grid_help")), true
}

// gridWorker is the grid worker the sender is bound as.
func (t *turn) gridWorker() (lianxin.GridWorker, lianxin.Grid, bool, error) {
	gs, ok := t.e.grids()
	if !ok {
		return lianxin.GridWorker{}, lianxin.Grid{}, false, nil
	}
	id, bound, err := gs.GridWorkerByOpenID(t.ctx, t.m.OpenID)
	if err != nil || !bound {
		return lianxin.GridWorker{}, lianxin.Grid{}, false, err
	}
	w, g, ok := t.dir.GridWorker(id)
	return w, g, ok, nil
}

// gridTurn handles 代报 (and the question it asks first) and 我的网格.
func (t *turn) gridTurn() (string, bool, error) {
	if t.m.Kind != lianxin.KindText && t.m.Kind != lianxin.KindVoice {
		return "", false, nil
	}
	raw := strings.TrimSpace(textOf(t.m))
	w := normalizeReply(raw)
	if t.s.Px && t.stale() {
		t.s.Px = false
	}
	if t.s.Px {
		return t.proxyWho(raw, w)
	}
	if !wordsProxy[w] && !wordsMyGrid[w] {
		return "", false, nil
	}
	_, grid, isWorker, err := t.gridWorker()
	if err != nil {
		return "", true, err
	}
	if !isWorker {
		if wordsProxy[w] {
			return t.txt("grid_not_worker"), true, nil
		}
		return "", false, nil
	}
	if wordsMyGrid[w] {
		r, err := t.myGrid(grid)
		return r, true, err
	}
	if t.s.inFlow() && !t.s.Paused {
		return join(t.txt("grid_finish_first"), t.short()), true, nil
	}
	t.s.Px = true
	return t.txt("grid_proxy_who"), true, nil
}

// proxyWho takes who the grid worker reports for («张大爷 13812345678», or
// 匿名) and starts the report.
func (t *turn) proxyWho(raw, w string) (string, bool, error) {
	if wordsCancel[w] {
		t.s.Px = false
		return t.txt("cancelled_empty"), true, nil
	}
	if wordsMenu[w] || wordsHelp[w] || wantsProgress(w) || wordsMyGrid[w] {
		t.s.Px = false
		return "", false, nil
	}
	worker, _, isWorker, err := t.gridWorker()
	if err != nil {
		return "", true, err
	}
	if !isWorker {
		t.s.Px = false
		return "", false, nil
	}
	p := proxyResident{Worker: worker.ID}
	if wordsAnon[w] {
		p.Anon = true
	} else {
		if phone, problem, _ := phoneNumber(raw); problem == "" {
			p.Phone = phone
		}
		p.Name = contactName(raw)
		if p.Name == "" && p.Phone == "" {
			return t.txt("grid_proxy_who_bad"), true, nil
		}
	}
	t.start()
	t.s.Ans.Proxy = &p
	if st := t.stepOfKind(StepPhone); st != nil {
		// The resident's phone is what they gave (or none); the worker is
		// not asked for theirs.
		t.s.Ans.Phone = p.Phone
		t.s.markDone(st.ID)
		t.s.Step = t.nextFrom(-1)
	}
	who := t.proxyName(&p)
	return join(t.txt("grid_proxy_started", "who", who), t.prompt()), true, nil
}

func (t *turn) proxyName(p *proxyResident) string {
	switch {
	case p.Anon:
		return t.txt("grid_proxy_anonymous")
	case p.Name != "" && p.Phone != "":
		return p.Name + "（" + lianxin.MaskPhone(p.Phone) + "）"
	case p.Name != "":
		return p.Name
	}
	return lianxin.MaskPhone(p.Phone)
}

// myGrid lists the grid's cases, open ones first.
func (t *turn) myGrid(g lianxin.Grid) (string, error) {
	gs, _ := t.e.grids()
	cases, err := gs.GridCases(t.ctx, g.ID, 10)
	if err != nil {
		return "", err
	}
	if len(cases) == 0 {
		return t.txt("grid_my_empty", "grid", g.Name), nil
	}
	lines := make([]string, len(cases))
	for i, c := range cases {
		lines[i] = t.txt("grid_case_line", "number", c.Number, "category", t.cats.Name(c.CategoryKey),
			"status", t.txt("status_"+string(c.Status)), "summary", clip(oneLine(c.Description), 14))
	}
	return t.txt("grid_my", "grid", g.Name, "count", itoa(len(cases)), "cases", strings.Join(lines, "\n"),
		"short", lianxin.ShortNumber(cases[0].Number)), nil
}

// gridCase finds a case of the sender's grid by a 进度 reference, for a
// grid worker following their grid (ok false: not a worker, or none).
func (t *turn) gridCase(ref string) (*lianxin.Case, bool, error) {
	_, g, isWorker, err := t.gridWorker()
	if err != nil || !isWorker {
		return nil, false, err
	}
	gs, _ := t.e.grids()
	cases, err := gs.GridCases(t.ctx, g.ID, 500)
	if err != nil {
		return nil, false, err
	}
	if fullNumber.MatchString(ref) {
		for _, c := range cases {
			if strings.EqualFold(c.Number, ref) {
				full, err := t.e.cfg.Store.Case(t.ctx, c.Number)
				return full, err == nil, err
			}
		}
		return nil, false, nil
	}
	if m := matchShort(cases, ref); len(m) == 1 {
		full, err := t.e.cfg.Store.Case(t.ctx, m[0].Number)
		return full, err == nil, err
	}
	return nil, false, nil
}

// proxyReport fills a report a grid worker files for a resident: the
// source 网格, the resident's name and phone (or anonymity), their WeChat
// when the phone is known from an earlier report, the worker as reporter
// (their photos are the case's, and they follow it), and the worker's grid.
func (t *turn) proxyReport(r *lianxin.Report, p *proxyResident) error {
	r.Source = lianxin.SourceGrid
	r.Reporter = lianxin.GridRecipientPrefix + p.Worker
	r.ReporterOpenID = t.m.OpenID
	r.OpenID = ""
	r.ContactName, r.Phone, r.Anonymous = p.Name, p.Phone, p.Anon
	if _, g, ok := t.dir.GridWorker(p.Worker); ok {
		r.GridID = g.ID
	}
	if p.Phone != "" && !p.Anon {
		gs, _ := t.e.grids()
		openid, ok, err := gs.ResidentByPhone(t.ctx, p.Phone)
		if err != nil {
			return err
		}
		if ok && openid != t.m.OpenID {
			r.OpenID = openid
		}
	}
	return nil
}

// tellProxied wraps a report's assigner so that the resident a grid worker
// reported for, when their WeChat is known, is told the case's number in
// the case's own transaction.
func (t *turn) tellProxied(assign lianxin.Assigner, r lianxin.Report) lianxin.Assigner {
	return func(v lianxin.AssignView, number string) (lianxin.Assignment, error) {
		a, err := assign(v, number)
		if err != nil {
			return a, err
		}
		worker := ""
		if w, _, ok := t.dir.GridWorker(strings.TrimPrefix(r.Reporter, lianxin.GridRecipientPrefix)); ok {
			worker = w.Name
		}
		c := caseOf(r, number, t.now)
		body := t.txt("grid_told_resident", "number", number, "worker", worker, "category", r.Category.Name,
			"summary", clip(oneLine(r.Description), 30), "station", t.stationName(r.StationID))
		a.Notices = append(a.Notices, t.notice("proxy:"+number+":resident", r.OpenID, body, t.txt("notify_resident_title"), c, ""))
		return a, nil
	}
}
