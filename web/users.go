package web

import (
	"net/http"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/lianxin/lianxin"
)

// Console accounts (/console/users), for admins: the same accounts
// `lianxin user` manages, with the same rules.

type usersPage struct {
	Base
	Rows     []userView
	Form     userForm
	Errors   map[string]string
	Roles    []string
	Stations []lianxin.Station
	Deputies []lianxin.Deputy
}

type userView struct {
	lianxin.User
	Station, Deputy string
}

type userForm struct {
	Username, Role, Station, Deputy, Password string
}

var usernameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,31}$`)

// MinPassword is the shortest password accepted (console and CLI): long
// enough that the sign-in limits make guessing hopeless.
const MinPassword = 10

// Validate returns, per field, the key of the message shown next to it.
func (f *userForm) Validate(rc *reqCtx) map[string]string {
	errs := map[string]string{}
	if !usernameRE.MatchString(f.Username) {
		errs["username"] = "username_invalid"
	}
	if !slices.Contains(lianxin.Roles, f.Role) {
		errs["role"] = "role_required"
	}
	if _, ok := rc.dir.Station(f.Station); f.Role == lianxin.RoleStaff && !ok {
		errs["station"] = "station_required"
	}
	if _, ok := rc.dir.Deputy(f.Deputy); f.Role == lianxin.RoleDeputy && !ok {
		errs["deputy"] = "deputy_required"
	}
	if utf8.RuneCountInString(f.Password) < MinPassword {
		errs["password"] = "password_short"
	}
	return errs
}

func (h *Handler) usersData(r *http.Request, rc *reqCtx) (*usersPage, error) {
	users, err := h.cfg.Store.Users(r.Context())
	if err != nil {
		return nil, err
	}
	p := &usersPage{Base: h.base(r, rc, "用户"), Errors: map[string]string{}, Roles: lianxin.Roles,
		Stations: rc.dir.Stations, Deputies: rc.dir.Deputies, Form: userForm{Role: lianxin.RoleStaff}}
	for _, u := range users {
		p.Rows = append(p.Rows, userView{User: u, Station: stationName(rc.dir, u.StationID), Deputy: deputyName(rc.dir, u.DeputyID)})
	}
	return p, nil
}

func (h *Handler) usersPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.adminOnly(); err != nil {
		return err
	}
	p, err := h.usersData(r, rc)
	if err != nil {
		return err
	}
	return h.render(w, "users", p)
}

func (h *Handler) addUser(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.adminOnly(); err != nil {
		return err
	}
	f := userForm{Username: strings.TrimSpace(r.PostFormValue("username")), Role: r.PostFormValue("role"),
		Station: r.PostFormValue("station"), Deputy: r.PostFormValue("deputy"), Password: r.PostFormValue("password")}
	if f.Role != lianxin.RoleStaff {
		f.Station = ""
	}
	if f.Role != lianxin.RoleDeputy {
		f.Deputy = ""
	}
	errs := f.Validate(rc)
	if len(errs) == 0 {
		hash, err := HashPassword(f.Password)
		if err != nil {
			return err
		}
		_, err = h.cfg.Store.AddUser(r.Context(), lianxin.User{Username: f.Username, Role: f.Role, StationID: f.Station, DeputyID: f.Deputy}, hash,
			rc.audit(r, lianxin.AuditUserAdd, "", f.Role+" "+f.Station+f.Deputy))
		switch lianxin.ErrorCode(err) {
		case "":
			http.Redirect(w, r, "/console/users?done=saved", http.StatusSeeOther)
			return nil
		case lianxin.ECONFLICT:
			errs["username"] = "username_taken"
		default:
			return err
		}
	}
	p, err := h.usersData(r, rc)
	if err != nil {
		return err
	}
	f.Password = "" // never sent back
	p.Form, p.Errors = f, errs
	return h.render(w, "users", p, http.StatusBadRequest)
}

// userOp disables or enables an account, or sets a new password; each signs
// the account out everywhere.
func (h *Handler) userOp(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.adminOnly(); err != nil {
		return err
	}
	name := r.PathValue("name")
	var err error
	switch r.PathValue("op") {
	case "disable", "enable":
		if name == rc.user.Username {
			return lianxin.Errorf(lianxin.EINVALID, "an admin cannot disable their own account")
		}
		err = h.cfg.Store.SetUserDisabled(r.Context(), name, r.PathValue("op") == "disable", rc.audit(r, lianxin.AuditUserDisable, "", r.PathValue("op")))
	case "password":
		pw := r.PostFormValue("password")
		if utf8.RuneCountInString(pw) < MinPassword {
			p, perr := h.usersData(r, rc)
			if perr != nil {
				return perr
			}
			p.Errors["password:"+name] = "password_short"
			return h.render(w, "users", p, http.StatusBadRequest)
		}
		hash, herr := HashPassword(pw)
		if herr != nil {
			return herr
		}
		err = h.cfg.Store.SetPassword(r.Context(), name, hash, rc.audit(r, lianxin.AuditUserPassword, "", ""))
	default:
		return lianxin.Errorf(lianxin.ENOTFOUND, "no user operation %q", r.PathValue("op"))
	}
	if err != nil {
		return err
	}
	http.Redirect(w, r, "/console/users?done=saved", http.StatusSeeOther)
	return nil
}
