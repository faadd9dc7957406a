package configs

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"slices"

	"go.yaml.in/yaml/v3"

	"github.com/lianxin/lianxin"
)

// Directory is the liaison-station directory as directory.yaml holds it. It is
// the domain's own type, so what loads is what routes.
type Directory = lianxin.Directory

// idPattern keeps ids safe to use in callback data, logs and file names.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)

// phonePattern is a telephone number as residents are given it:
// "0353-1234567", "12345", "0353 123 4567".
var phonePattern = regexp.MustCompile(`^\+?[0-9][0-9 -]{3,18}[0-9]$`)

// LoadDirectory parses a directory file and refuses it, naming the line at
// fault, when routing could go wrong with it: ids missing or used twice
// (across stations, points, deputies and departments alike, so an id on a
// timeline is never ambiguous), a point without its station, a deputy
// attached nowhere, a unit with deputies but not exactly one head, unknown
// specialties, areas that are malformed, overlap, or stick out of their
// station, receptions that never happen. categoryKeys are the valid
// specialties; nil skips that check, for tools that read the directory alone.
func LoadDirectory(b []byte, categoryKeys []string) (*Directory, error) {
	var d Directory
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("directory: the file is empty")
		}
		return nil, fmt.Errorf("directory: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("directory: %w", err)
	}
	c := &dirCheck{d: &d, root: doc.Content[0], categories: categoryKeys}
	c.check()
	if len(c.errs) == 0 {
		return &d, nil
	}
	slices.SortStableFunc(c.errs, func(a, b *lineError) int { return cmp.Compare(a.Line, b.Line) })
	errs := make([]error, len(c.errs))
	for i, e := range c.errs {
		errs[i] = e
	}
	return nil, fmt.Errorf("directory: %w", errors.Join(errs...))
}

// lineError is one problem in the file, at the line an editor should look at.
type lineError struct {
	Line int
	Msg  string
}

func (e *lineError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// dirCheck walks the decoded directory beside its YAML nodes: the decoded
// values say what is wrong, the nodes say where.
type dirCheck struct {
	d          *Directory
	root       *yaml.Node
	categories []string
	errs       []*lineError
	// ids maps every id to the line that declared it.
	ids map[string]int
}

func (c *dirCheck) bad(n *yaml.Node, format string, args ...any) {
	c.errs = append(c.errs, &lineError{Line: n.Line, Msg: fmt.Sprintf(format, args...)})
}

// at returns where to point for the field at path below n (mapping keys and
// sequence indexes): a field's key, so an error about an area names the
// "area:" line rather than the line after it; or, when the path runs out, the
// deepest node on the way, so a missing field points at the item lacking it.
func at(n *yaml.Node, path ...any) *yaml.Node {
	for i, p := range path {
		var key, next *yaml.Node
		switch k := p.(type) {
		case string:
			if n.Kind == yaml.MappingNode {
				for j := 0; j+1 < len(n.Content); j += 2 {
					if n.Content[j].Value == k {
						key, next = n.Content[j], n.Content[j+1]
						break
					}
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && k < len(n.Content) {
				next = n.Content[k]
			}
		}
		if next == nil {
			return n
		}
		if key != nil && i == len(path)-1 {
			return key
		}
		n = next
	}
	return n
}

func (c *dirCheck) check() {
	c.ids = map[string]int{}
	if len(c.d.Stations) == 0 {
		c.bad(c.root, "stations: the directory has no stations")
	}
	for i, s := range c.d.Stations {
		c.id(at(c.root, "stations", i), s.ID, s.Name)
	}
	for i, p := range c.d.Deputies {
		c.id(at(c.root, "deputies", i), p.ID, p.Name)
	}
	for i, p := range c.d.Departments {
		c.id(at(c.root, "departments", i), p.ID, p.Name)
	}
	c.stations()
	c.areas()
	c.deputies()
	c.departments()
	c.district()
	c.grids()
}

// openIDPattern is the shape of a WeChat openid (28 characters today).
var openIDPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{16,64}$`)

// departments checks the optional ways a department is told of a case
// forwarded to it.
func (c *dirCheck) departments() {
	for i, p := range c.d.Departments {
		n := at(c.root, "departments", i)
		if p.RobotWebhook != "" {
			if u, err := url.Parse(p.RobotWebhook); err != nil || u.Scheme != "https" || u.Host == "" {
				c.bad(at(n, "robot_webhook"), "%s: robot_webhook %q is not an https URL", p.ID, p.RobotWebhook)
			}
		}
		if p.OpenID != "" && !openIDPattern.MatchString(p.OpenID) {
			c.bad(at(n, "openid"), "%s: openid %q is not a WeChat openid (letters, digits, - and _)", p.ID, p.OpenID)
		}
	}
}

// staff checks the staff of a unit or of the district (path leads to
// their owner): an https robot URL, openids that look like openids, none
// twice, and someone to tell.
func (c *dirCheck) staff(owner string, s *lianxin.Staff, path ...any) {
	if s == nil {
		return
	}
	where := func(more ...any) *yaml.Node {
		return at(c.root, append(append(path[:len(path):len(path)], "staff"), more...)...)
	}
	if s.RobotWebhook != "" {
		if u, err := url.Parse(s.RobotWebhook); err != nil || u.Scheme != "https" || u.Host == "" {
			c.bad(where("robot_webhook"), "%s: staff robot_webhook %q is not an https URL", owner, s.RobotWebhook)
		}
	}
	for j, id := range s.OpenIDs {
		switch {
		case !openIDPattern.MatchString(id):
			c.bad(where("openids", j), "%s: staff openid %q is not a WeChat openid (the staff member's, as the account sees them)", owner, id)
		case slices.Index(s.OpenIDs, id) < j:
			c.bad(where("openids", j), "%s: staff openid %s is listed twice", owner, id)
		}
	}
	if !s.Reachable() {
		c.bad(where(), "%s: staff need a robot_webhook or openids (or leave staff out)", owner)
	}
}

// district checks the district office's settings.
func (c *dirCheck) district() {
	c.staff("district", c.d.District.Staff, "district")
}

// id checks what every item has: an id, unique across the whole file, and a name.
func (c *dirCheck) id(n *yaml.Node, id, name string) {
	switch {
	case id == "":
		c.bad(n, "id is missing")
	case !idPattern.MatchString(id):
		c.bad(at(n, "id"), "id %q may hold only a-z, 0-9, - and _", id)
	default:
		if line, dup := c.ids[id]; dup {
			c.bad(at(n, "id"), "id %q is already used on line %d", id, line)
		} else {
			c.ids[id] = at(n, "id").Line
		}
	}
	if name == "" {
		c.bad(n, "%s: name is missing", id)
	}
}

func (c *dirCheck) stations() {
	places := map[string]string{} // place name → unit that has it
	for i, s := range c.d.Stations {
		n := at(c.root, "stations", i)
		switch s.Kind {
		case lianxin.StationKind:
			if s.Parent != "" {
				c.bad(at(n, "parent"), "%s: a station has no parent; use kind: point for a community's point", s.ID)
			}
		case lianxin.PointKind:
			if parent, ok := c.d.Station(s.Parent); !ok {
				c.bad(at(n, "parent"), "%s: parent %q is not a station in this file", s.ID, s.Parent)
			} else if parent.Kind != lianxin.StationKind {
				c.bad(at(n, "parent"), "%s: parent %q is a %s, not a station", s.ID, s.Parent, parent.Kind)
			}
		default:
			c.bad(at(n, "kind"), "%s: kind %q must be station or point", s.ID, s.Kind)
		}
		c.area(n, s.ID, s.Area)
		c.staff(s.ID, s.Staff, "stations", i)
		for j, r := range s.Reception {
			c.reception(at(n, "reception", j), s, r)
		}
		if s.Phone != "" && !phonePattern.MatchString(s.Phone) {
			c.bad(at(n, "phone"), "%s: phone %q is not a telephone number (digits, with - or spaces)", s.ID, s.Phone)
		}
		if s.RobotWebhook != "" {
			if u, err := url.Parse(s.RobotWebhook); err != nil || u.Scheme != "https" || u.Host == "" {
				c.bad(at(n, "robot_webhook"), "%s: robot_webhook %q is not an https URL", s.ID, s.RobotWebhook)
			}
		}
		for j, pl := range s.Places {
			pn := at(n, "places", j)
			if pl == "" {
				c.bad(pn, "%s: a place name is empty", s.ID)
			} else if other, dup := places[pl]; dup {
				// One name for two units would make every address with it ambiguous.
				c.bad(pn, "%s: place %q is already %s's", s.ID, pl, other)
			} else {
				places[pl] = s.ID
			}
		}
	}
}

// area checks the shape of the area of the unit at n; how areas sit together
// is checked in areas.
func (c *dirCheck) area(n *yaml.Node, id string, a lianxin.Area) {
	point := func(n *yaml.Node, p lianxin.Point) {
		switch {
		case p.Lat == 0 && p.Lng == 0:
			c.bad(n, "%s: point has no lat and lng", id)
		case p.Lat < -90 || p.Lat > 90 || p.Lng < -180 || p.Lng > 180:
			c.bad(n, "%s: lat %v, lng %v is not a place on earth (lat and lng swapped?)", id, p.Lat, p.Lng)
		}
	}
	switch {
	case len(a.Polygon) > 0 && a.Center != nil:
		c.bad(at(n, "area"), "%s: area has both a polygon and a center; give one", id)
	case len(a.Polygon) > 0:
		if len(a.Polygon) < 3 {
			c.bad(at(n, "area", "polygon"), "%s: polygon needs at least 3 points, has %d", id, len(a.Polygon))
		}
		for j, p := range a.Polygon {
			point(at(n, "area", "polygon", j), p)
		}
	case a.Center != nil:
		point(at(n, "area", "center"), *a.Center)
		if a.RadiusM <= 0 {
			c.bad(at(n, "area", "radius_m"), "%s: a center needs radius_m greater than 0", id)
		}
	default:
		c.bad(at(n, "area"), "%s: area needs a polygon, or a center and radius_m", id)
	}
}

// areas checks what makes StationAt unambiguous: stations do not overlap, a
// point lies inside its station, and a station's points do not overlap.
func (c *dirCheck) areas() {
	// An area already refused for its shape is not compared again.
	usable := func(a lianxin.Area) bool { return len(a.Polygon) >= 3 || a.Center != nil && a.RadiusM > 0 }
	for i, s := range c.d.Stations {
		if !usable(s.Area) {
			continue
		}
		n := at(c.root, "stations", i, "area")
		if s.Kind == lianxin.PointKind {
			if parent, ok := c.d.Station(s.Parent); ok && usable(parent.Area) && !s.Area.Within(parent.Area) {
				c.bad(n, "%s: area is not inside its station %s's area", s.ID, parent.ID)
			}
		}
		for j := range i {
			o := c.d.Stations[j]
			same := s.Kind == lianxin.StationKind && o.Kind == lianxin.StationKind ||
				s.Kind == lianxin.PointKind && o.Kind == lianxin.PointKind && s.Parent == o.Parent
			if same && usable(o.Area) && s.Area.Overlaps(o.Area) {
				c.bad(n, "%s: area overlaps %s's (line %d)", s.ID, o.ID, at(c.root, "stations", j, "area").Line)
			}
		}
	}
}

func (c *dirCheck) reception(n *yaml.Node, s lianxin.Station, r lianxin.Reception) {
	switch {
	case r.MonthDay != 0 && r.Weekday != "":
		c.bad(n, "%s: reception has both month_day and weekday; give one", s.ID)
	case r.MonthDay != 0:
		if r.MonthDay < 1 || r.MonthDay > 31 {
			c.bad(at(n, "month_day"), "%s: month_day %d is not between 1 and 31", s.ID, r.MonthDay)
		}
	case r.Weekday != "":
		if _, err := lianxin.ParseWeekday(r.Weekday); err != nil {
			c.bad(at(n, "weekday"), "%s: %v", s.ID, err)
		}
	default:
		c.bad(n, "%s: reception needs month_day or weekday", s.ID)
	}
	start, err1 := lianxin.ParseClock(r.Start)
	if err1 != nil {
		c.bad(at(n, "start"), "%s: start: %v", s.ID, err1)
	}
	end, err2 := lianxin.ParseClock(r.End)
	if err2 != nil {
		c.bad(at(n, "end"), "%s: end: %v", s.ID, err2)
	}
	if err1 == nil && err2 == nil && start >= end {
		c.bad(at(n, "end"), "%s: reception ends (%s) before it starts (%s)", s.ID, r.End, r.Start)
	}
	for j, id := range r.DeputyIDs {
		p, ok := c.d.Deputy(id)
		unit, _ := c.d.Station(p.StationID)
		switch {
		case !ok:
			c.bad(at(n, "deputies", j), "%s: reception deputy %q is not in deputies", s.ID, id)
		case p.StationID != s.ID && !(unit.Kind == lianxin.PointKind && unit.Parent == s.ID):
			// A point's deputy may sit at its station, not anywhere else.
			c.bad(at(n, "deputies", j), "%s: reception deputy %s belongs to %s", s.ID, id, p.StationID)
		case slices.Index(r.DeputyIDs, id) < j:
			c.bad(at(n, "deputies", j), "%s: reception deputy %s is listed twice", s.ID, id)
		}
	}
}

func (c *dirCheck) deputies() {
	heads := map[string]int{} // unit → line of its head
	first := map[string]int{} // unit → index of its first deputy
	for i, p := range c.d.Deputies {
		n := at(c.root, "deputies", i)
		if p.Level != lianxin.LevelDistrict && p.Level != lianxin.LevelCity {
			c.bad(at(n, "level"), "%s: level %q must be %s or %s", p.ID, p.Level, lianxin.LevelDistrict, lianxin.LevelCity)
		}
		if _, ok := c.d.Station(p.StationID); !ok {
			c.bad(at(n, "station"), "%s: station %q is not a station or point in this file", p.ID, p.StationID)
		} else if _, seen := first[p.StationID]; !seen {
			first[p.StationID] = i
		}
		for j, k := range p.Specialties {
			switch {
			case c.categories != nil && !slices.Contains(c.categories, k):
				c.bad(at(n, "specialties", j), "%s: specialty %q is not a category key", p.ID, k)
			case slices.Index(p.Specialties, k) < j:
				c.bad(at(n, "specialties", j), "%s: specialty %q is listed twice", p.ID, k)
			}
		}
		if p.Head {
			if line, dup := heads[p.StationID]; dup {
				c.bad(at(n, "head"), "%s: %s already has a head (line %d); a unit has one", p.ID, p.StationID, line)
			} else {
				heads[p.StationID] = at(n, "head").Line
			}
		}
	}
	// The head is who takes a case when nobody else can; without one such
	// cases would skip the unit and go to the district.
	for unit, i := range first {
		if _, ok := heads[unit]; !ok {
			c.bad(at(c.root, "deputies", i), "%s has deputies but no head: mark one head: true", unit)
		}
	}
}
