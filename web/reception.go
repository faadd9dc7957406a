package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lianxin/lianxin"
)

// Reception days (/console/reception): the day's list for staff and the
// deputies on duty (bookings made in chat by slot, then walk-ins added as
// they come), with a one-click «登记为案件» that registers what was raised
// as a case (source 来访) linked to the booking and the deputy on duty; and
// the duty roster (/console/reception/roster) staff keep: who sits at which
// station on which day. Both say how the month's mass sends stand, and
// say plainly when the quota is used up and a reminder could not go out.

// ReceptionDesk is what the reception pages need (store.DB and the
// engine, wired in internal/service).
type ReceptionDesk interface {
	Roster(ctx context.Context, scope lianxin.Scope, from, to string) ([]lianxin.RosterEntry, error)
	// AddRosterEntry and RemoveRosterEntry change the roster and make it
	// the one routing uses.
	AddRosterEntry(ctx context.Context, scope lianxin.Scope, e lianxin.RosterEntry, a lianxin.AuditEntry) (int64, error)
	RemoveRosterEntry(ctx context.Context, scope lianxin.Scope, id int64, a lianxin.AuditEntry) error
	DayList(ctx context.Context, scope lianxin.Scope, stationID, day string) ([]lianxin.Booking, error)
	AddWalkIn(ctx context.Context, scope lianxin.Scope, b lianxin.Booking, a lianxin.AuditEntry) (*lianxin.Booking, error)
	MarkArrived(ctx context.Context, scope lianxin.Scope, id int64, a lianxin.AuditEntry) error
	// RegisterBooking registers what a booking or walk-in raised as a case.
	// deputyID is the deputy on duty who heard it ("" : by the rules).
	RegisterBooking(ctx context.Context, scope lianxin.Scope, id int64, category, description, deputyID string, actor lianxin.User, addr string) (*lianxin.Case, error)
	// MassStanding is the station's tag's line of the month's ledger and
	// the reminders of its days from fromDay on.
	MassStanding(ctx context.Context, stationID, month, fromDay string) (lianxin.MassUse, map[string]string, error)
	ReceptionSettings() lianxin.ReceptionSettings
	MassSendsOfMonth(ctx context.Context, month string) ([]lianxin.MassSend, error)
}

// massRow is a line of the month's mass sends as staff read it.
type massRow struct {
	What, To, Status string
	At               time.Time
}

type receptionPage struct {
	Base
	Stations []lianxin.Station
	Station  string
	Day      string
	// Reception is the day's reception (hours, who is on duty); HasDay is
	// false when the station has none that day.
	Reception lianxin.ReceptionDay
	HasDay    bool
	OnDuty    []string
	Duty      []lianxin.Deputy
	Upcoming  []lianxin.ReceptionDay
	List      []lianxin.Booking
	Cats      lianxin.Categories
	CanAct    bool
	Mass      lianxin.MassUse
	Reminder  string // queued, quota, or "" (not yet)
	RemindOn  time.Time
	Errors    map[string]string
	Sends     []massRow
}

func (h *Handler) receptionRoutes() {
	m := h.mux
	m.Handle("GET /console/reception", h.auth(h.receptionDay))
	m.Handle("POST /console/reception/walkins", h.auth(h.receptionWalkIn))
	m.Handle("POST /console/reception/bookings/{id}/arrived", h.auth(h.receptionArrived))
	m.Handle("POST /console/reception/bookings/{id}/register", h.auth(h.receptionRegister))
	m.Handle("GET /console/reception/roster", h.auth(h.rosterPage))
	m.Handle("POST /console/reception/roster", h.auth(h.rosterAdd))
	m.Handle("POST /console/reception/roster/{id}/delete", h.auth(h.rosterRemove))
}

func (h *Handler) receptionDesk() (ReceptionDesk, error) {
	if h.cfg.Reception == nil {
		return nil, lianxin.Errorf(lianxin.ENOTFOUND, "reception days are not wired")
	}
	return h.cfg.Reception, nil
}

// receptionStations are the stations and points the user may pick: their
// scope's, or for a deputy their own station's.
func receptionStations(rc *reqCtx) []lianxin.Station {
	var out []lianxin.Station
	for _, st := range rc.dir.Stations {
		if rc.scope.All || rc.scope.Allows(st.ID, "") {
			out = append(out, st)
		}
	}
	if len(out) == 0 && rc.user.Role == lianxin.RoleDeputy {
		// A deputy: their own station, and those the roster seats them at.
		ids := []string{}
		if d, ok := rc.dir.Deputy(rc.user.DeputyID); ok {
			ids = append(ids, d.StationID)
		}
		for _, e := range rc.dir.Roster {
			if e.DeputyID == rc.user.DeputyID && !slices.Contains(ids, e.StationID) {
				ids = append(ids, e.StationID)
			}
		}
		for _, id := range ids {
			if st, ok := rc.dir.Station(id); ok {
				out = append(out, st)
			}
		}
	}
	return out
}

// dayScope is the scope the day's list is read in: a deputy the directory
// puts on duty there that day sees it (the roster's duty is checked in
// the store's query).
func dayScope(rc *reqCtx, rd lianxin.ReceptionDay, ok bool) lianxin.Scope {
	s := rc.scope
	if rc.user.Role != lianxin.RoleDeputy || !ok || rd.FromRoster {
		return s
	}
	d, known := rc.dir.Deputy(rc.user.DeputyID)
	if known && (slices.Contains(rd.DeputyIDs, d.ID) || (len(rd.DeputyIDs) == 0 && d.StationID == rd.StationID)) {
		s.Units = append(slices.Clone(s.Units), rd.StationID)
	}
	return s
}

func (h *Handler) receptionDay(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := h.receptionPageData(r, rc, r.URL.Query().Get("station"), r.URL.Query().Get("day"))
	if err != nil {
		return err
	}
	return h.render(w, "reception", p)
}

func (h *Handler) receptionPageData(r *http.Request, rc *reqCtx, station, day string) (*receptionPage, error) {
	d, err := h.receptionDesk()
	if err != nil {
		return nil, err
	}
	ctx := r.Context()
	loc := h.cfg.Location
	now := h.cfg.Now().In(loc)
	p := &receptionPage{Base: h.base(r, rc, "接待日"), Stations: receptionStations(rc), Cats: rc.cats, Errors: map[string]string{},
		CanAct: rc.user.Role == lianxin.RoleAdmin || rc.user.Role == lianxin.RoleStaff}
	if p.Station, err = chooseStation(p.Stations, rc.user.StationID, station); err != nil {
		return nil, err
	}
	set := d.ReceptionSettings()
	p.Upcoming = rc.dir.ReceptionDays(p.Station, now, 6, 90, loc)
	p.Day = now.Format(lianxin.DayLayout)
	if _, today := rc.dir.ReceptionOn(p.Station, now, loc); !today && len(p.Upcoming) > 0 {
		p.Day = p.Upcoming[0].Key()
	}
	if day != "" {
		if _, err := time.ParseInLocation(lianxin.DayLayout, day, loc); err != nil {
			return nil, lianxin.Errorf(lianxin.EINVALID, "bad day %q", day)
		}
		p.Day = day
	}
	at, _ := time.ParseInLocation(lianxin.DayLayout, p.Day, loc)
	p.Reception, p.HasDay = rc.dir.ReceptionOn(p.Station, at, loc)
	for _, id := range p.Reception.DeputyIDs {
		if dep, ok := rc.dir.Deputy(id); ok {
			p.OnDuty = append(p.OnDuty, dep.Name)
			p.Duty = append(p.Duty, dep)
		}
	}
	if p.List, err = d.DayList(ctx, dayScope(rc, p.Reception, p.HasDay), p.Station, p.Day); err != nil {
		return nil, err
	}
	var reminders map[string]string
	if p.Mass, reminders, err = d.MassStanding(ctx, p.Station, lianxin.MassMonth(now, loc), now.Format(lianxin.DayLayout)); err != nil {
		return nil, err
	}
	p.Reminder = reminders[p.Day]
	sends, err := d.MassSendsOfMonth(ctx, lianxin.MassMonth(now, loc))
	if err != nil {
		return nil, err
	}
	for _, m := range sends {
		row := massRow{What: m.Purpose, To: "全体关注者", Status: m.Status, At: m.CreatedAt}
		if st, ok := strings.CutPrefix(m.Tag, "联络站:"); ok {
			row.To = stationName(rc.dir, st) + "的居民"
		}
		parts := strings.Split(m.Purpose, ":")
		switch {
		case parts[0] == "consultation":
			row.What = "征求意见推送"
		case parts[0] == "reception" && len(parts) == 3:
			row.What = parts[2] + " 接待日提醒"
		}
		p.Sends = append(p.Sends, row)
	}
	if p.HasDay && p.Reception.Monthly && set.RemindDays > 0 {
		p.RemindOn = at.AddDate(0, 0, -set.RemindDays)
	}
	return p, nil
}

func (h *Handler) receptionWalkIn(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.staffOnly(); err != nil {
		return err
	}
	d, err := h.receptionDesk()
	if err != nil {
		return err
	}
	b := lianxin.Booking{Kind: lianxin.BookingKindWalkIn, StationID: r.FormValue("station"), Day: r.FormValue("day"),
		Name: strings.TrimSpace(r.FormValue("name")), Phone: strings.ReplaceAll(strings.TrimSpace(r.FormValue("phone")), " ", ""),
		Topic: strings.TrimSpace(r.FormValue("topic")), CreatedBy: rc.user.Ref()}
	p, err := h.receptionPageData(r, rc, b.StationID, b.Day)
	if err != nil {
		return err
	}
	switch n := utf8.RuneCountInString(b.Topic); {
	case n < 2:
		p.Errors["topic"] = "walkin_topic"
	case n > maxText:
		p.Errors["topic"] = "text_too_long"
	}
	if b.Phone != "" && !phoneRE.MatchString(b.Phone) {
		p.Errors["phone"] = "phone_invalid"
	}
	if utf8.RuneCountInString(b.Name) > 40 {
		p.Errors["name"] = "text_too_long"
	}
	if len(p.Errors) > 0 {
		return h.render(w, "reception", p, http.StatusBadRequest)
	}
	if _, err := d.AddWalkIn(r.Context(), rc.scope, b, rc.audit(r, "walkin_add", "", b.Day)); err != nil {
		return err
	}
	http.Redirect(w, r, receptionURL(b.StationID, b.Day, "walkin_added"), http.StatusSeeOther)
	return nil
}

func receptionURL(station, day, done string) string {
	q := url.Values{"station": {station}, "day": {day}}
	if done != "" {
		q.Set("done", done)
	}
	return "/console/reception?" + q.Encode()
}

func bookingID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return 0, lianxin.Errorf(lianxin.ENOTFOUND, "no booking %q", r.PathValue("id"))
	}
	return id, nil
}

func (h *Handler) receptionArrived(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.staffOnly(); err != nil {
		return err
	}
	d, err := h.receptionDesk()
	if err != nil {
		return err
	}
	id, err := bookingID(r)
	if err != nil {
		return err
	}
	if err := d.MarkArrived(r.Context(), rc.scope, id, rc.audit(r, "booking_arrived", "", "")); err != nil && lianxin.ErrorCode(err) != lianxin.ECONFLICT {
		return err
	}
	http.Redirect(w, r, receptionURL(r.FormValue("station"), r.FormValue("day"), "booking_arrived"), http.StatusSeeOther)
	return nil
}

func (h *Handler) receptionRegister(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.staffOnly(); err != nil {
		return err
	}
	d, err := h.receptionDesk()
	if err != nil {
		return err
	}
	id, err := bookingID(r)
	if err != nil {
		return err
	}
	cat, desc, deputy := r.FormValue("category"), strings.TrimSpace(r.FormValue("description")), r.FormValue("deputy")
	station, day := r.FormValue("station"), r.FormValue("day")
	problem := ""
	if _, ok := rc.dir.Deputy(deputy); deputy != "" && !ok {
		problem = "roster_deputy"
	} else if _, ok := rc.cats.ByKey(cat); !ok {
		problem = "category_required"
	} else if n := utf8.RuneCountInString(desc); n < 5 {
		problem = "description_short"
	} else if n > maxText {
		problem = "text_too_long"
	}
	if problem == "" {
		c, err := d.RegisterBooking(r.Context(), rc.scope, id, cat, desc, deputy, rc.user, clientAddr(r))
		switch {
		case err == nil:
			http.Redirect(w, r, "/console/cases/"+url.PathEscape(c.Number)+"?done=registered", http.StatusSeeOther)
			return nil
		case lianxin.ErrorCode(err) == lianxin.ECONFLICT:
			problem = "booking_registered"
		default:
			return err
		}
	}
	p, err := h.receptionPageData(r, rc, station, day)
	if err != nil {
		return err
	}
	p.Errors["register"] = problem
	p.Error = labels["err:"+problem]
	return h.render(w, "reception", p, http.StatusBadRequest)
}

// The duty roster.

type rosterPage struct {
	Base
	Stations []lianxin.Station
	Station  string
	Deputies []lianxin.Deputy
	Entries  []lianxin.RosterEntry
	Days     []lianxin.ReceptionDay
	CanEdit  bool
	Form     lianxin.RosterEntry
	Errors   map[string]string
	Names    map[string]string
}

// rosterWeeks is how far ahead the roster page shows the reception days.
const rosterWeeks = 8

func (h *Handler) rosterPage(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	p, err := h.rosterPageData(r, rc, r.URL.Query().Get("station"))
	if err != nil {
		return err
	}
	return h.render(w, "roster", p)
}

func (h *Handler) rosterPageData(r *http.Request, rc *reqCtx, station string) (*rosterPage, error) {
	d, err := h.receptionDesk()
	if err != nil {
		return nil, err
	}
	loc := h.cfg.Location
	now := h.cfg.Now().In(loc)
	p := &rosterPage{Base: h.base(r, rc, "接待日值班表"), Stations: receptionStations(rc), Errors: map[string]string{}, Names: map[string]string{},
		CanEdit: rc.user.Role == lianxin.RoleAdmin || rc.user.Role == lianxin.RoleStaff}
	if p.Station, err = chooseStation(p.Stations, rc.user.StationID, station); err != nil {
		return nil, err
	}
	for _, dep := range rc.dir.Deputies {
		p.Names[dep.ID] = dep.Name
		if p.CanEdit {
			p.Deputies = append(p.Deputies, dep)
		}
	}
	from := now.Format(lianxin.DayLayout)
	to := now.AddDate(0, 0, 7*rosterWeeks).Format(lianxin.DayLayout)
	all, err := d.Roster(r.Context(), rc.scope, from, to)
	if err != nil {
		return nil, err
	}
	for _, e := range all {
		if e.StationID == p.Station {
			p.Entries = append(p.Entries, e)
		}
	}
	p.Days = rc.dir.ReceptionDays(p.Station, now, 7*rosterWeeks, 7*rosterWeeks, loc)
	p.Form = lianxin.RosterEntry{StationID: p.Station, Start: "09:00", End: "11:30"}
	if len(p.Days) > 0 {
		p.Form.Day = p.Days[0].Key()
	}
	return p, nil
}

func (h *Handler) rosterAdd(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.staffOnly(); err != nil {
		return err
	}
	d, err := h.receptionDesk()
	if err != nil {
		return err
	}
	e := lianxin.RosterEntry{StationID: r.FormValue("station"), Day: strings.TrimSpace(r.FormValue("day")), DeputyID: r.FormValue("deputy"),
		Start: strings.TrimSpace(r.FormValue("start")), End: strings.TrimSpace(r.FormValue("end")), Note: strings.TrimSpace(r.FormValue("note"))}
	problem := e.Validate(rc.dir)
	if problem == "" && !rc.scope.All && !rc.scope.Allows(e.StationID, "") {
		return lianxin.Errorf(lianxin.EFORBIDDEN, "station %s is not in your scope", e.StationID)
	}
	if problem == "" {
		if day, _ := time.ParseInLocation(lianxin.DayLayout, e.Day, h.cfg.Location); day.Before(h.cfg.Now().In(h.cfg.Location).AddDate(0, 0, -1)) {
			problem = "roster_past"
		}
	}
	if problem == "" {
		_, err = d.AddRosterEntry(r.Context(), rc.scope, e, rc.audit(r, "roster_add", "", ""))
		switch {
		case err == nil:
			http.Redirect(w, r, "/console/reception/roster?station="+url.QueryEscape(e.StationID)+"&done=roster_added", http.StatusSeeOther)
			return nil
		case lianxin.ErrorCode(err) == lianxin.ECONFLICT:
			problem = "roster_duplicate"
		default:
			return err
		}
	}
	p, err := h.rosterPageData(r, rc, e.StationID)
	if err != nil {
		return err
	}
	p.Form, p.Errors["form"] = e, problem
	return h.render(w, "roster", p, http.StatusBadRequest)
}

func (h *Handler) rosterRemove(w http.ResponseWriter, r *http.Request, rc *reqCtx) error {
	if err := rc.staffOnly(); err != nil {
		return err
	}
	d, err := h.receptionDesk()
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		return lianxin.Errorf(lianxin.ENOTFOUND, "no roster entry %q", r.PathValue("id"))
	}
	if err := d.RemoveRosterEntry(r.Context(), rc.scope, id, rc.audit(r, "roster_remove", "", "")); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	http.Redirect(w, r, "/console/reception/roster?station="+url.QueryEscape(r.FormValue("station"))+"&done=roster_removed", http.StatusSeeOther)
	return nil
}

// chooseStation is the station a reception page shows: the one asked for,
// which must be in scope; else the user's own; else the first in scope.
func chooseStation(inScope []lianxin.Station, own, asked string) (string, error) {
	has := func(id string) bool {
		return slices.ContainsFunc(inScope, func(s lianxin.Station) bool { return s.ID == id })
	}
	switch {
	case len(inScope) == 0:
		return "", lianxin.Errorf(lianxin.EFORBIDDEN, "no station in scope")
	case asked != "" && !has(asked):
		return "", lianxin.Errorf(lianxin.EFORBIDDEN, "station %s is not in your scope", asked)
	case asked != "":
		return asked, nil
	case own != "" && has(own):
		return own, nil
	}
	return inScope[0].ID, nil
}
