package lianxin

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Kinds of liaison unit (Station.Kind): a station per sub-district (街道), a
// point per community (社区) under its station.
const (
	StationKind = "station"
	PointKind   = "point"
)

// Deputy levels (Deputy.Level).
const (
	LevelDistrict = "区级"
	LevelCity     = "市级"
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

// Directory is the liaison stations and points, their deputies and the
// departments cases are forwarded to: everything routing decides with. It is
// small (tens of units, a few hundred deputies at most), so lookups scan.
type Directory struct {
	Stations    []Station    `json:"stations" yaml:"stations"`
	Deputies    []Deputy     `json:"deputies" yaml:"deputies"`
	Departments []Department `json:"departments" yaml:"departments"`

	// Phrase turns a reason code and its details into the words staff read
	// on the timeline (the service sets it from configs/messages.yaml).
	Phrase func(code string, pairs ...string) string `json:"-" yaml:"-"`
}

// Station returns the station or point with the id.
func (d *Directory) Station(id string) (Station, bool) {
	for _, s := range d.Stations {
		if s.ID == id {
			return s, true
		}
	}
	return Station{}, false
}

// StationOf returns the station a unit belongs to: a point's parent, or the
// station itself. Reports and the station-level queue group cases this way.
func (d *Directory) StationOf(id string) (Station, bool) {
	s, ok := d.Station(id)
	if !ok || s.Kind != PointKind {
		return s, ok
	}
	return d.Station(s.Parent)
}

// Points returns the points under a station, in file order.
func (d *Directory) Points(stationID string) []Station {
	var ps []Station
	for _, s := range d.Stations {
		if s.Kind == PointKind && s.Parent == stationID {
			ps = append(ps, s)
		}
	}
	return ps
}

// Deputy returns the deputy with the id.
func (d *Directory) Deputy(id string) (Deputy, bool) {
	for _, p := range d.Deputies {
		if p.ID == id {
			return p, true
		}
	}
	return Deputy{}, false
}

// DeputiesOf returns the deputies attached to one unit (not its points'), in
// file order.
func (d *Directory) DeputiesOf(unitID string) []Deputy {
	var ds []Deputy
	for _, p := range d.Deputies {
		if p.StationID == unitID {
			ds = append(ds, p)
		}
	}
	return ds
}

// Head returns the head of a unit (站长, or a point's 负责人).
func (d *Directory) Head(unitID string) (Deputy, bool) {
	for _, p := range d.Deputies {
		if p.StationID == unitID && p.Head {
			return p, true
		}
	}
	return Deputy{}, false
}

// Department returns the department with the id.
func (d *Directory) Department(id string) (Department, bool) {
	for _, p := range d.Departments {
		if p.ID == id {
			return p, true
		}
	}
	return Department{}, false
}

// StationAt returns the most specific unit whose area contains p: a point
// wins over its station, because the community's own deputies know the
// blocks and the people. Use StationOf for the station above it.
func (d *Directory) StationAt(p Point) (Station, bool) {
	var station *Station
	for i, s := range d.Stations {
		if !s.Area.Contains(p) {
			continue
		}
		if s.Kind == PointKind {
			return s, true
		}
		if station == nil {
			station = &d.Stations[i]
		}
	}
	if station != nil {
		return *station, true
	}
	return Station{}, false
}

// NearestStation returns the station whose area is nearest to p, with the
// distance to its edge, when that is at most maxM. Only stations compete:
// outside every area a resident is in no community's blocks, and a station
// covers the gaps between its points.
func (d *Directory) NearestStation(p Point, maxM float64) (Station, float64, bool) {
	best, bestM := -1, math.Inf(1)
	for i, s := range d.Stations {
		if s.Kind != StationKind {
			continue
		}
		if m := s.Area.DistanceM(p); m < bestM {
			best, bestM = i, m
		}
	}
	if best < 0 || bestM > maxM {
		return Station{}, 0, false
	}
	return d.Stations[best], bestM, true
}

// StationByAddress finds the unit a typed address names through its Places.
// When an address names a point and its station ("平潭街水滩社区"), the point
// wins; an address naming two unrelated units is ambiguous and matches none.
// It returns the place name that matched.
func (d *Directory) StationByAddress(text string) (Station, string, bool) {
	if strings.TrimSpace(text) == "" {
		return Station{}, "", false
	}
	type hit struct {
		unit  Station
		place string
	}
	var hits []hit
	for _, s := range d.Stations {
		for _, pl := range s.Places {
			if pl != "" && strings.Contains(text, pl) {
				hits = append(hits, hit{s, pl})
				break
			}
		}
	}
	// Drop a station when one of its own points also matched.
	var kept []hit
	for _, h := range hits {
		shadowed := slices.ContainsFunc(hits, func(o hit) bool {
			return o.unit.Kind == PointKind && o.unit.Parent == h.unit.ID
		})
		if !shadowed {
			kept = append(kept, h)
		}
	}
	if len(kept) != 1 {
		return Station{}, "", false
	}
	return kept[0].unit, kept[0].place, true
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

// onDuty returns who is on reception duty on t's date: those a reception that
// day names, wherever they are attached (a point's deputy may sit at the
// station), and every deputy of a unit whose reception that day names nobody.
// Duty is by the day, not the hours: whoever sat at the station that day is
// already receiving residents and expects the cases.
func (d *Directory) onDuty(t time.Time, loc *time.Location) func(Deputy) bool {
	named := map[string]bool{}
	allOf := map[string]bool{}
	for _, s := range d.Stations {
		for _, r := range s.Reception {
			if !r.OnDay(t, loc) {
				continue
			}
			if len(r.DeputyIDs) == 0 {
				allOf[s.ID] = true
			}
			for _, id := range r.DeputyIDs {
				named[id] = true
			}
		}
	}
	return func(p Deputy) bool { return named[p.ID] || allOf[p.StationID] }
}

// ParseClock reads a reception time, "9:00" or "09:00", as minutes after midnight.
func ParseClock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || len(h) < 1 || len(h) > 2 ||
		hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("%q is not a time like 09:00", s)
	}
	return hh*60 + mm, nil
}

// weekdayZh is how a weekday is written after 周 or 星期.
var weekdayZh = [7]string{"日", "一", "二", "三", "四", "五", "六"}

// weekdayNames are the spellings ParseWeekday accepts: English for whoever
// edits the file in an editor, Chinese as the stations write it.
var weekdayNames = func() map[string]time.Weekday {
	m := map[string]time.Weekday{"周天": time.Sunday, "星期天": time.Sunday}
	for d := time.Sunday; d <= time.Saturday; d++ {
		m[strings.ToLower(d.String())] = d
		m["周"+weekdayZh[d]] = d
		m["星期"+weekdayZh[d]] = d
	}
	return m
}()

// ParseWeekday reads a weekday as stations write it: "wednesday", "周三" or "星期三".
func ParseWeekday(s string) (time.Weekday, error) {
	if d, ok := weekdayNames[strings.ToLower(strings.TrimSpace(s))]; ok {
		return d, nil
	}
	return 0, fmt.Errorf("%q is not a weekday like wednesday or 周三", s)
}

// OnDay reports whether t's date (in loc; nil means t's own zone) is a day
// of this reception. A month_day the month lacks (31 in April) is no day.
func (r Reception) OnDay(t time.Time, loc *time.Location) bool {
	if loc != nil {
		t = t.In(loc)
	}
	switch {
	case r.MonthDay > 0:
		return t.Day() == r.MonthDay
	case r.Weekday != "":
		wd, err := ParseWeekday(r.Weekday)
		return err == nil && t.Weekday() == wd
	}
	return false
}

// OnDuty reports whether t falls within a session: its day, from Start up to
// (not including) End.
func (r Reception) OnDuty(t time.Time, loc *time.Location) bool {
	start, end, ok := r.Next(t, loc)
	return ok && !t.Before(start) && t.Before(end)
}

// Next returns the session in progress at t or, failing that, the next one.
// ok is false for a reception whose times do not parse.
func (r Reception) Next(t time.Time, loc *time.Location) (start, end time.Time, ok bool) {
	if loc == nil {
		loc = t.Location()
	}
	from, err1 := ParseClock(r.Start)
	to, err2 := ParseClock(r.End)
	if err1 != nil || err2 != nil || from >= to {
		return time.Time{}, time.Time{}, false
	}
	y, m, dd := t.In(loc).Date()
	// A month_day of 31 skips the short months; a year bounds any valid reception.
	for i := 0; i <= 366; i++ {
		day := time.Date(y, m, dd+i, 0, 0, 0, 0, loc)
		if !r.OnDay(day, loc) {
			continue
		}
		start = day.Add(time.Duration(from) * time.Minute)
		end = day.Add(time.Duration(to) * time.Minute)
		if end.After(t) {
			return start, end, true
		}
	}
	return time.Time{}, time.Time{}, false
}

// String is the reception as residents read it: "每月15日 9:00–11:30",
// "每周三 9:00–11:30".
func (r Reception) String() string {
	day := ""
	switch {
	case r.MonthDay > 0:
		day = fmt.Sprintf("每月%d日", r.MonthDay)
	case r.Weekday != "":
		if wd, err := ParseWeekday(r.Weekday); err == nil {
			day = "每周" + weekdayZh[wd]
		}
	}
	return fmt.Sprintf("%s %s–%s", day, trimClock(r.Start), trimClock(r.End))
}

// trimClock drops an hour's leading zero: "09:00" reads as 9:00 in Chinese text.
func trimClock(s string) string {
	if len(s) == 5 && s[0] == '0' {
		return s[1:]
	}
	return s
}

// NextReception returns the station's reception in progress at t or coming
// next, with when it starts.
func (s Station) NextReception(t time.Time, loc *time.Location) (Reception, time.Time, bool) {
	var best Reception
	var bestAt time.Time
	found := false
	for _, r := range s.Reception {
		start, _, ok := r.Next(t, loc)
		if ok && (!found || start.Before(bestAt)) {
			best, bestAt, found = r, start, true
		}
	}
	return best, bestAt, found
}

// Overlaps reports whether two areas share more than 1% of the smaller one.
// The slack forgives a shared boundary typed a digit differently on each
// side; anything more makes StationAt ambiguous.
func (a Area) Overlaps(b Area) bool {
	ra, rb := a.ring(), b.ring()
	if ra == nil || rb == nil {
		return false
	}
	areaA, areaB, both := sweep(ra, rb)
	return both > areaSlack*math.Min(areaA, areaB)
}

// Within reports whether a lies inside b, give or take 1% of a's area.
func (a Area) Within(b Area) bool {
	ra, rb := a.ring(), b.ring()
	if ra == nil || rb == nil {
		return false
	}
	areaA, _, both := sweep(ra, rb)
	return areaA-both <= areaSlack*areaA
}

// areaSlack is the share of an area that may stick out or overlap unremarked.
const areaSlack = 0.01

// ring is the area's outline: its polygon, or its circle as 72 vertices (the
// polygon falls short of the circle by at most 0.1% of the radius).
func (a Area) ring() []Point {
	if len(a.Polygon) >= 3 {
		return a.Polygon
	}
	if a.Center == nil || a.RadiusM <= 0 {
		return nil
	}
	const n = 72
	c := *a.Center
	dLat := a.RadiusM / earthRadiusM * 180 / math.Pi
	dLng := dLat / math.Cos(c.Lat*math.Pi/180)
	pts := make([]Point, n)
	for i := range pts {
		th := 2 * math.Pi * float64(i) / n
		pts[i] = Point{Lat: c.Lat + dLat*math.Sin(th), Lng: c.Lng + dLng*math.Cos(th)}
	}
	return pts
}

// sweep measures two polygons: each one's area and the area they share, in
// m². It cuts the plane into north-south slabs at every vertex and every
// crossing of two edges. Within a slab no edge starts, ends or crosses
// another, so what lies inside each polygon (even-odd, as Contains decides)
// is a stack of trapezoids, and the lengths across the slab's middle times
// its width are exact: no tolerance to tune, no sliver missed.
func sweep(a, b []Point) (areaA, areaB, both float64) {
	var xs []float64
	for _, p := range a {
		xs = append(xs, p.Lng)
	}
	for _, p := range b {
		xs = append(xs, p.Lng)
	}
	edges := append(edgesOf(a), edgesOf(b)...)
	for i := range edges {
		for j := i + 1; j < len(edges); j++ {
			if x, ok := crossLng(edges[i], edges[j]); ok {
				xs = append(xs, x)
			}
		}
	}
	slices.Sort(xs)
	xs = slices.Compact(xs)
	for i := 0; i+1 < len(xs); i++ {
		w, x := xs[i+1]-xs[i], (xs[i]+xs[i+1])/2
		sa, sb := spans(a, x), spans(b, x)
		areaA += w * spanLen(sa)
		areaB += w * spanLen(sb)
		for j := 0; j+1 < len(sa); j += 2 {
			for k := 0; k+1 < len(sb); k += 2 {
				both += w * math.Max(0, math.Min(sa[j+1], sb[k+1])-math.Max(sa[j], sb[k]))
			}
		}
	}
	// Degrees² to m² on the local plane, as pointInPolygon treats degrees.
	m := math.Pi / 180 * earthRadiusM
	f := m * m * math.Cos(a[0].Lat*math.Pi/180)
	return areaA * f, areaB * f, both * f
}

type segment struct{ p, q Point }

func edgesOf(poly []Point) []segment {
	es := make([]segment, len(poly))
	for i := range poly {
		es[i] = segment{poly[i], poly[(i+1)%len(poly)]}
	}
	return es
}

// crossLng is the longitude where two segments meet, if they meet at one point.
func crossLng(s, t segment) (float64, bool) {
	dx1, dy1 := s.q.Lng-s.p.Lng, s.q.Lat-s.p.Lat
	dx2, dy2 := t.q.Lng-t.p.Lng, t.q.Lat-t.p.Lat
	den := dx1*dy2 - dy1*dx2
	if den == 0 {
		return 0, false // parallel: where they touch, their vertices are already cuts
	}
	ex, ey := t.p.Lng-s.p.Lng, t.p.Lat-s.p.Lat
	u := (ex*dy2 - ey*dx2) / den
	v := (ex*dy1 - ey*dx1) / den
	if u < 0 || u > 1 || v < 0 || v > 1 {
		return 0, false
	}
	return s.p.Lng + u*dx1, true
}

// spans are the latitudes where the line of longitude x enters and leaves
// poly, sorted: inside from spans[0] to spans[1], spans[2] to spans[3], ...
func spans(poly []Point, x float64) []float64 {
	var ys []float64
	for i := range poly {
		p, q := poly[i], poly[(i+1)%len(poly)]
		if (p.Lng < x) != (q.Lng < x) {
			ys = append(ys, p.Lat+(x-p.Lng)*(q.Lat-p.Lat)/(q.Lng-p.Lng))
		}
	}
	slices.Sort(ys)
	return ys
}

func spanLen(ys []float64) float64 {
	l := 0.0
	for j := 0; j+1 < len(ys); j += 2 {
		l += ys[j+1] - ys[j]
	}
	return l
}
