package lianxin

import "math"

// Category is a kind of problem. Keys are stable identifiers; names, keywords
// and deadlines are data a station edits in configs/.
type Category struct {
	Key         string   `json:"key" yaml:"key"`
	Name        string   `json:"name" yaml:"name"`
	Keywords    []string `json:"keywords,omitempty" yaml:"keywords"`
	AcceptHours int      `json:"accept_hours,omitempty" yaml:"accept_hours"`
	ResolveDays int      `json:"resolve_days,omitempty" yaml:"resolve_days"`
	Department  string   `json:"department,omitempty" yaml:"department"`
}

// Point is a WGS-84 coordinate as WeChat location messages carry it.
type Point struct {
	Lat float64 `json:"lat" yaml:"lat"`
	Lng float64 `json:"lng" yaml:"lng"`
}

// Area is where a station or point serves: a polygon, or a centre and radius.
type Area struct {
	Polygon []Point `json:"polygon,omitempty" yaml:"polygon"`
	Center  *Point  `json:"center,omitempty" yaml:"center"`
	RadiusM float64 `json:"radius_m,omitempty" yaml:"radius_m"`
}

// Contains reports whether p lies inside the area.
func (a Area) Contains(p Point) bool {
	if len(a.Polygon) >= 3 {
		return pointInPolygon(p, a.Polygon)
	}
	if a.Center != nil && a.RadiusM > 0 {
		return DistanceM(*a.Center, p) <= a.RadiusM
	}
	return false
}

// DistanceM is how far p is from the area's edge in metres (0 inside).
func (a Area) DistanceM(p Point) float64 {
	if a.Contains(p) {
		return 0
	}
	if a.Center != nil && a.RadiusM > 0 {
		return math.Max(0, DistanceM(*a.Center, p)-a.RadiusM)
	}
	best := math.Inf(1)
	for i := range a.Polygon {
		q, r := a.Polygon[i], a.Polygon[(i+1)%len(a.Polygon)]
		best = math.Min(best, distanceToSegmentM(p, q, r))
	}
	return best
}

// pointInPolygon is the even-odd ray cast; the district is small enough that
// treating degrees as planar coordinates is exact to well under a metre.
func pointInPolygon(p Point, poly []Point) bool {
	in := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if (a.Lat > p.Lat) != (b.Lat > p.Lat) &&
			p.Lng < (b.Lng-a.Lng)*(p.Lat-a.Lat)/(b.Lat-a.Lat)+a.Lng {
			in = !in
		}
	}
	return in
}

const earthRadiusM = 6371000

// DistanceM is the great-circle distance between two points in metres.
func DistanceM(p, q Point) float64 {
	la1, la2 := p.Lat*math.Pi/180, q.Lat*math.Pi/180
	dla := la2 - la1
	dln := (q.Lng - p.Lng) * math.Pi / 180
	h := math.Sin(dla/2)*math.Sin(dla/2) + math.Cos(la1)*math.Cos(la2)*math.Sin(dln/2)*math.Sin(dln/2)
	return 2 * earthRadiusM * math.Asin(math.Min(1, math.Sqrt(h)))
}

// distanceToSegmentM projects onto a local equirectangular plane around p.
func distanceToSegmentM(p, a, b Point) float64 {
	k := math.Cos(p.Lat * math.Pi / 180)
	ax, ay := (a.Lng-p.Lng)*k, a.Lat-p.Lat
	bx, by := (b.Lng-p.Lng)*k, b.Lat-p.Lat
	dx, dy := bx-ax, by-ay
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, -(ax*dx+ay*dy)/l))
	}
	x, y := ax+t*dx, ay+t*dy
	return math.Sqrt(x*x+y*y) * math.Pi / 180 * earthRadiusM
}

// Station is a liaison station (联络站) or point (联络点).
type Station struct {
	ID        string      `json:"id" yaml:"id"`
	Name      string      `json:"name" yaml:"name"`
	Kind      string      `json:"kind" yaml:"kind"` // "station" or "point"
	Parent    string      `json:"parent,omitempty" yaml:"parent"`
	Address   string      `json:"address,omitempty" yaml:"address"`
	Area      Area        `json:"area" yaml:"area"`
	Reception []Reception `json:"reception,omitempty" yaml:"reception"`
	// RobotWebhook is the station's WeCom group robot, if it has one.
	RobotWebhook string `json:"robot_webhook,omitempty" yaml:"robot_webhook"`
	// Places are names residents type for somewhere in the unit (estates,
	// lanes, the community's own name), so a typed address routes like a
	// shared location does.
	Places []string `json:"places,omitempty" yaml:"places"`
}

// Reception is a recurring reception day (接待日), e.g. every month on the 15th.
type Reception struct {
	MonthDay int    `json:"month_day,omitempty" yaml:"month_day"`
	Weekday  string `json:"weekday,omitempty" yaml:"weekday"`
	Start    string `json:"start" yaml:"start"`
	End      string `json:"end" yaml:"end"`
	// DeputyIDs on duty that day, in turn (坐堂接诊); empty means all.
	DeputyIDs []string `json:"deputies,omitempty" yaml:"deputies"`
}

// Deputy is a people's-congress deputy attached to a station.
type Deputy struct {
	ID          string   `json:"id" yaml:"id"`
	Name        string   `json:"name" yaml:"name"`
	Level       string   `json:"level" yaml:"level"` // 区级 or 市级
	StationID   string   `json:"station" yaml:"station"`
	Specialties []string `json:"specialties,omitempty" yaml:"specialties"`
	Head        bool     `json:"head,omitempty" yaml:"head"`
}

// Department is a functional department (职能部门) cases are forwarded to.
type Department struct {
	ID      string `json:"id" yaml:"id"`
	Name    string `json:"name" yaml:"name"`
	Contact string `json:"contact,omitempty" yaml:"contact"`
}
