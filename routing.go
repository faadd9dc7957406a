package lianxin

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// NearbyLimitM is how far outside every station's area a location may be and
// still go to the nearest station. WeChat locations drift by tens to hundreds
// of metres between old blocks and the areas are hand-drawn, so a location a
// few hundred metres out almost always belongs to the station next to it; a
// kilometre is about a ten-minute walk, beyond which the place is more likely
// in a neighbouring district and the resident is asked to choose instead.
const NearbyLimitM = 1000

// Reasons written on a case's timeline when it is routed or assigned, as
// codes. Staff read them as phrases from configs/messages.yaml (reason_<code>,
// with {unit}, {meters}, {place} or {category} filled in) through the
// Directory's Phrase; without one a reason reads as its code and details.
const (
	RouteInArea  = "in_area"
	RouteNearby  = "nearby"
	RouteAddress = "address"
	RouteChoice  = "choice"

	ReasonSpecialty  = "specialty"
	ReasonOnDuty     = "on_duty"
	ReasonFewestOpen = "fewest_open"
	ReasonRoundRobin = "round_robin"
	ReasonSole       = "sole"
	ReasonPointHead  = "point_head"
	ReasonHead       = "head"
	ReasonParent     = "parent"
	reasonJoin       = "join" // what goes between two reasons
)

// say renders a reason code with its details ("name", value, ...).
func (d *Directory) say(code string, pairs ...string) string {
	if d.Phrase != nil {
		return d.Phrase(code, pairs...)
	}
	if code == reasonJoin {
		return ", "
	}
	out := code
	for i := 1; i < len(pairs); i += 2 {
		out += " " + pairs[i]
	}
	return out
}

// RouteStation decides which unit a case goes to, trying in turn: the area
// the location lies in (the most specific unit); the nearest station within
// NearbyLimitM; a place name in the typed address or WeChat's label; the
// unit the resident chose from the list (its id or its full name). A shared
// location comes first because it is where the problem is; the typed address
// only names it, and the explicit choice is what residents are asked for when
// nothing else decided. It returns the unit's id and the reason for the
// timeline; ok is false when nothing decided and the resident must be asked.
func (d *Directory) RouteStation(loc Location, choice string) (stationID, reason string, ok bool) {
	if loc.HasPoint() {
		p := loc.Point()
		if s, ok := d.StationAt(p); ok {
			return s.ID, d.say(RouteInArea, "unit", s.Name), true
		}
		if s, m, ok := d.NearestStation(p, NearbyLimitM); ok {
			return s.ID, d.say(RouteNearby, "unit", s.Name, "meters", fmt.Sprint(int(math.Round(m/10)*10))), true
		}
	}
	if s, place, ok := d.StationByAddress(loc.Address + " " + loc.Label); ok {
		return s.ID, d.say(RouteAddress, "place", place), true
	}
	if choice = strings.TrimSpace(choice); choice != "" {
		for _, s := range d.Stations {
			if s.ID == choice || s.Name == choice {
				return s.ID, d.say(RouteChoice, "unit", s.Name), true
			}
		}
	}
	return "", "", false
}

// PickInput is what PickDeputy decides with. The counts and the last
// assignment come from the store; the decision itself is pure.
type PickInput struct {
	// StationID is the unit the case was routed to: a station or a point.
	StationID string
	// Category is the case's category: its key is matched against
	// specialties, its name goes into the reason.
	Category Category
	// Now is when the case is assigned; reception duty is judged on its date.
	Now time.Time
	// Loc is the time zone reception days are kept in; nil means Now's.
	Loc *time.Location
	// Open is each deputy's number of open cases; missing means none.
	Open map[string]int
	// LastAssigned is the deputy the station's previous case went to (the
	// station as StationOf gives it, points included); on a tie the next
	// after them in id order gets this one, so ties take turns.
	LastAssigned string
	// Exclude are deputies who must not get the case, e.g. one who returned it.
	Exclude []string
}

// PickDeputy chooses the deputy for a case. The pool is the unit's deputies
// other than its head. Within the pool it narrows, in order, to those with
// the category as a specialty, to those on reception duty today, to those
// with the fewest open cases, and breaks what tie remains by taking turns in
// id order after LastAssigned. Each step only narrows when some candidate
// passes it, so a pool with no specialist still gets the case.
//
// The head (站长, a point's 负责人) stays out of the daily pool: heads already
// carry the escalations and reminders, and keeping them free is what lets them
// catch what nobody else can. When the pool is empty (no deputies, or all
// excluded) the order is: the unit's head; for a point, its station's pool,
// then the station's head. When even that fails ok is false and the caller
// queues the case for the district's staff.
//
// The reason names the steps that actually narrowed the choice, so staff can
// see why this deputy and not another.
func (d *Directory) PickDeputy(in PickInput) (Deputy, string, bool) {
	unit, ok := d.Station(in.StationID)
	if !ok {
		return Deputy{}, "", false
	}
	units := []Station{unit}
	if unit.Kind == PointKind {
		if parent, ok := d.Station(unit.Parent); ok {
			units = append(units, parent)
		}
	}
	onDuty := d.onDuty(in.Now, in.Loc)
	for i, u := range units {
		var pool []Deputy
		for _, p := range d.DeputiesOf(u.ID) {
			if !p.Head && !slices.Contains(in.Exclude, p.ID) {
				pool = append(pool, p)
			}
		}
		if p, why := d.pick(pool, in, onDuty); why != "" {
			if i > 0 {
				why = d.say(ReasonParent) + d.say(reasonJoin) + why
			}
			return p, why, true
		}
		if h, ok := d.Head(u.ID); ok && !slices.Contains(in.Exclude, h.ID) {
			if u.Kind == PointKind {
				return h, d.say(ReasonPointHead), true
			}
			return h, d.say(ReasonHead), true
		}
	}
	return Deputy{}, "", false
}

// pick narrows pool (which it sorts) as PickDeputy describes; the reason is
// empty when the pool is.
func (d *Directory) pick(pool []Deputy, in PickInput, onDuty func(Deputy) bool) (Deputy, string) {
	if len(pool) == 0 {
		return Deputy{}, ""
	}
	slices.SortFunc(pool, func(a, b Deputy) int { return strings.Compare(a.ID, b.ID) })
	var why []string
	narrow := func(keep func(Deputy) bool, reason string) {
		var kept []Deputy
		for _, p := range pool {
			if keep(p) {
				kept = append(kept, p)
			}
		}
		if len(kept) > 0 && len(kept) < len(pool) {
			pool = kept
			why = append(why, reason)
		}
	}
	if key := in.Category.Key; key != "" {
		name := in.Category.Name
		if name == "" {
			name = key
		}
		narrow(func(p Deputy) bool { return slices.Contains(p.Specialties, key) }, d.say(ReasonSpecialty, "category", name))
	}
	narrow(onDuty, d.say(ReasonOnDuty))
	least := math.MaxInt
	for _, p := range pool {
		least = min(least, in.Open[p.ID])
	}
	narrow(func(p Deputy) bool { return in.Open[p.ID] == least }, d.say(ReasonFewestOpen))

	chosen := pool[0]
	if len(pool) > 1 {
		// Ids are sorted: the first after the last one assigned, wrapping round.
		for _, p := range pool {
			if p.ID > in.LastAssigned {
				chosen = p
				break
			}
		}
		why = append(why, d.say(ReasonRoundRobin))
	}
	if len(why) == 0 {
		why = append(why, d.say(ReasonSole))
	}
	return chosen, strings.Join(why, d.say(reasonJoin))
}

// AssignView is what an Assigner may read inside the case's transaction, so
// two cases created at once never both see the same "fewest open cases".
type AssignView interface {
	// OpenCounts is the number of open cases of each of these deputies.
	OpenCounts(deputyIDs []string) (map[string]int, error)
	// LastAssignee is the deputy the newest case of these units went to.
	LastAssignee(unitIDs []string) (string, error)
}

// Assignment is who gets a new case, why (timeline events) and who is told.
type Assignment struct {
	AssigneeID string
	NeedsStaff bool // nobody could be assigned: the district's staff take it
	Events     []Event
	Notices    []Notice
}

// Assigner decides a new case's deputy inside its transaction; number is the
// case's number, for the notices.
type Assigner func(v AssignView, number string) (Assignment, error)
