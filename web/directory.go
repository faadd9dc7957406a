package web

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
)

// The directory (/console/directory): deputies with their WeChat binding,
// binding codes, unbinding and deactivation (their open cases go to
// colleagues); stations and points, departments and categories, edited by
// admins through the same validation as the YAML import.

type directoryPage struct {
	Base
	Deputies    []deputyView
	Stations    []lianxin.Station
	Departments []lianxin.Department
	Cats        lianxin.Categories
	Admin       bool
	Invite      string
	InviteFor   string
	InviteUntil time.Time
	Moved       int
	// Edit is the record being edited ("station:ID", "deputy:new", ...),
	// with its form as typed and the messages next to the fields.
	Edit   string
	Form   dirForm
	Errors map[string]string
	Detail string // the validator's words when the directory refused the change
	Levels []string
}

type deputyView struct {
	lianxin.DeputyRecord
	Station string
}

// dirForm is one directory record as typed; which fields count depends on
// the kind of record.
type dirForm struct {
	Kind, ID    string
	Name        string
	Address     string
	Robot       string
	Places      string // one per line
	Contact     string
	Keywords    string // one per line, 词^权重
	AcceptHours string
	ResolveDays string
	Level       string
	Station     string
	Specialties []string
	Head        bool
	New         bool
}

var dirIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// Validate checks what the console can say in its own words; the rest
// (heads, areas, ids used twice) is the import's validation.
func (f *dirForm) Validate(rc *reqCtx) map[string]string {
	errs := map[string]string{}
	if strings.TrimSpace(f.Name) == "" {
		errs["name"] = "name_required"
	}
	if f.New && !dirIDRE.MatchString(f.ID) {
		errs["id"] = "id_invalid"
	}
	switch f.Kind {
	case "category":
		for field, v := range map[string]string{"accept_hours": f.AcceptHours, "resolve_days": f.ResolveDays} {
			if n, err := strconv.Atoi(v); err != nil || n < 1 || n > 365*24 {
				errs[field] = "number_required"
			}
		}
	case "deputy":
		if f.Level != lianxin.LevelDistrict && f.Level != lianxin.LevelCity {
			errs["level"] = "level_required"
		}
		if _, ok := rc.dir.Station(f.Station); !ok {
			errs["station"] = "station_required"
		}
	case "station":
		if f.Robot != "" && !strings.HasPrefix(f.Robot, "https://") {
			errs["robot"] = "robot_invalid"
		}
	}
	return errs
}

func (h *Handler) directoryPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.staffOnly(); err != nil {
		return err
	}
	p, err := h.directoryData(r, rc)
	if err != nil {
		return err
	}
	if edit := r.URL.Query().Get("edit"); edit != "" && p.Admin {
		kind, id, _ := strings.Cut(edit, ":")
		f, ok := formFor(rc, kind, id)
		if !ok {
			return lianxin.Errorf(lianxin.ENOTFOUND, "no %s %q to edit", kind, id)
		}
		p.Edit, p.Form = edit, f
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("moved")); err == nil {
		p.Moved = n
	}
	return h.render(w, "directory", p)
}

func (h *Handler) directoryData(r *http.Request, rc *reqCtx) (*directoryPage, error) {
	recs, err := h.cfg.Store.DeputyRecords(r.Context())
	if err != nil {
		return nil, err
	}
	p := &directoryPage{Base: h.base(r, rc, "代表与联络站"), Departments: rc.dir.Departments, Cats: rc.cats,
		Admin: rc.user.Role == lianxin.RoleAdmin && h.cfg.Directory != nil, Errors: map[string]string{},
		Levels: []string{lianxin.LevelDistrict, lianxin.LevelCity}}
	for _, d := range recs {
		if rc.scope.Allows(d.StationID, "") {
			p.Deputies = append(p.Deputies, deputyView{DeputyRecord: d, Station: stationName(rc.dir, d.StationID)})
		}
	}
	for _, st := range rc.dir.Stations {
		if rc.scope.Allows(st.ID, "") {
			p.Stations = append(p.Stations, st)
		}
	}
	return p, nil
}

// formFor fills the edit form from the record as it is ("new" for a new one).
func formFor(rc *reqCtx, kind, id string) (dirForm, bool) {
	f := dirForm{Kind: kind, ID: id, New: id == "new"}
	if f.New {
		f.ID = ""
		f.Level = lianxin.LevelDistrict
		return f, kind == "deputy" || kind == "department"
	}
	switch kind {
	case "station":
		st, ok := rc.dir.Station(id)
		f.Name, f.Address, f.Robot, f.Places = st.Name, st.Address, st.RobotWebhook, strings.Join(st.Places, "\n")
		return f, ok
	case "department":
		d, ok := rc.dir.Department(id)
		f.Name, f.Contact = d.Name, d.Contact
		return f, ok
	case "category":
		c, ok := rc.cats.ByKey(id)
		f.Name, f.Keywords, f.AcceptHours, f.ResolveDays = c.Name, strings.Join(c.Keywords, "\n"), strconv.Itoa(c.AcceptHours), strconv.Itoa(c.ResolveDays)
		return f, ok
	case "deputy":
		d, ok := rc.dir.Deputy(id)
		f.Name, f.Level, f.Station, f.Specialties, f.Head = d.Name, d.Level, d.StationID, d.Specialties, d.Head
		return f, ok
	}
	return f, false
}

func lines(s string) []string {
	var out []string
	for _, l := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' || r == '、' || r == '，' || r == ',' }) {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

// directoryEdit saves one record: the whole directory, with it changed,
// goes through the import's validation and storage, audited.
func (h *Handler) directoryEdit(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.adminOnly(); err != nil {
		return err
	}
	if h.cfg.Directory == nil {
		return lianxin.Errorf(lianxin.EUNAVAILABLE, "directory editing is not wired")
	}
	if err := r.ParseForm(); err != nil {
		return lianxin.Errorf(lianxin.EINVALID, "bad form: %v", err)
	}
	kind, id := r.PathValue("kind"), r.PathValue("id")
	f := dirForm{Kind: kind, ID: id, New: id == "new", Name: strings.TrimSpace(r.PostFormValue("name")),
		Address: strings.TrimSpace(r.PostFormValue("address")), Robot: strings.TrimSpace(r.PostFormValue("robot")),
		Places: r.PostFormValue("places"), Contact: strings.TrimSpace(r.PostFormValue("contact")), Keywords: r.PostFormValue("keywords"),
		AcceptHours: strings.TrimSpace(r.PostFormValue("accept_hours")), ResolveDays: strings.TrimSpace(r.PostFormValue("resolve_days")),
		Level: r.PostFormValue("level"), Station: r.PostFormValue("station"), Specialties: r.PostForm["specialties"], Head: r.PostFormValue("head") == "1"}
	if f.New {
		f.ID = strings.TrimSpace(r.PostFormValue("id"))
	}
	back := func(errs map[string]string, detail string) error {
		p, err := h.directoryData(r, rc)
		if err != nil {
			return err
		}
		p.Edit, p.Form, p.Errors, p.Detail = kind+":"+id, f, errs, detail
		return h.render(w, "directory", p, http.StatusBadRequest)
	}
	if errs := f.Validate(rc); len(errs) > 0 {
		return back(errs, "")
	}
	// A copy of the directory in use, with the one record changed.
	dir := *rc.dir
	dir.Stations = slices.Clone(rc.dir.Stations)
	dir.Deputies = slices.Clone(rc.dir.Deputies)
	dir.Departments = slices.Clone(rc.dir.Departments)
	cats := slices.Clone(rc.cats)
	found := f.New
	switch kind {
	case "station":
		for i := range dir.Stations {
			if s := &dir.Stations[i]; s.ID == id {
				s.Name, s.Address, s.RobotWebhook, s.Places, found = f.Name, f.Address, f.Robot, lines(f.Places), true
			}
		}
	case "department":
		if f.New {
			dir.Departments = append(dir.Departments, lianxin.Department{ID: f.ID, Name: f.Name, Contact: f.Contact})
		}
		for i := range dir.Departments {
			if d := &dir.Departments[i]; d.ID == id {
				d.Name, d.Contact, found = f.Name, f.Contact, true
			}
		}
	case "category":
		hours, _ := strconv.Atoi(f.AcceptHours)
		days, _ := strconv.Atoi(f.ResolveDays)
		for i := range cats {
			if c := &cats[i]; c.Key == id {
				c.Name, c.Keywords, c.AcceptHours, c.ResolveDays, found = f.Name, lines(f.Keywords), hours, days, true
			}
		}
	case "deputy":
		d := lianxin.Deputy{ID: f.ID, Name: f.Name, Level: f.Level, StationID: f.Station, Specialties: f.Specialties, Head: f.Head}
		if f.New {
			dir.Deputies = append(dir.Deputies, d)
		}
		for i := range dir.Deputies {
			if dir.Deputies[i].ID == id {
				d.ID = id
				dir.Deputies[i], found = d, true
			}
		}
	default:
		return lianxin.Errorf(lianxin.ENOTFOUND, "no directory record kind %q", kind)
	}
	if !found {
		return lianxin.Errorf(lianxin.ENOTFOUND, "no %s %q", kind, id)
	}
	subject := kind + ":" + f.ID
	_, err := h.cfg.Directory.EditDirectory(r.Context(), &dir, cats, rc.audit(r, lianxin.AuditDirectory, subject, f.Name))
	if lianxin.ErrorCode(err) == lianxin.EINVALID {
		return back(map[string]string{"form": "directory_refused"}, lianxin.ErrorMessage(err))
	} else if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/directory?done=saved", http.StatusSeeOther)
	return nil
}

// deputyOp: a binding code for a deputy (staff of their station),
// unbinding a lost phone and deactivating a deputy who left (admins).
func (h *Handler) deputyOp(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.staffOnly(); err != nil {
		return err
	}
	id := r.PathValue("id")
	d, ok := rc.dir.Deputy(id)
	if !ok || !rc.scope.Allows(d.StationID, "") {
		return lianxin.Errorf(lianxin.ENOTFOUND, "no deputy %q in scope", id)
	}
	switch op := r.PathValue("op"); op {
	case "invite":
		code, until, err := h.cfg.Store.CreateInvite(r.Context(), id, 24*time.Hour)
		if err != nil {
			return err
		}
		if err := h.cfg.Store.Audit(r.Context(), rc.audit(r, lianxin.AuditInvite, "deputy:"+id, "")); err != nil {
			return err
		}
		p, err := h.directoryData(r, rc)
		if err != nil {
			return err
		}
		p.Invite, p.InviteFor, p.InviteUntil = code, d.Name, until
		return h.render(w, "directory", p)
	case "unbind", "deactivate":
		if err := rc.adminOnly(); err != nil {
			return err
		}
		if h.cfg.Directory == nil {
			return lianxin.Errorf(lianxin.EUNAVAILABLE, "directory editing is not wired")
		}
		if op == "unbind" {
			if err := h.cfg.Directory.UnbindDeputy(r.Context(), id, rc.audit(r, lianxin.AuditUnbind, "deputy:"+id, "")); err != nil {
				return err
			}
			http.Redirect(w, r, "/console/directory?done=unbound", http.StatusSeeOther)
			return nil
		}
		moved, err := h.cfg.Directory.DeactivateDeputy(r.Context(), id, rc.user, clientAddr(r))
		if lianxin.ErrorCode(err) == lianxin.EINVALID {
			p, perr := h.directoryData(r, rc)
			if perr != nil {
				return perr
			}
			p.Errors["form"], p.Detail = "deactivate_refused", lianxin.ErrorMessage(err)
			return h.render(w, "directory", p, http.StatusBadRequest)
		} else if err != nil {
			return err
		}
		http.Redirect(w, r, "/console/directory?done=deactivated&moved="+url.QueryEscape(strconv.Itoa(moved)), http.StatusSeeOther)
		return nil
	}
	return lianxin.Errorf(lianxin.ENOTFOUND, "no deputy operation %q", r.PathValue("op"))
}
