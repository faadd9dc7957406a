package lianxin

import (
	"strings"
	"time"
)

// Grid workers (网格员): the article's second step, 网格听事. A community is
// cut into grids (an area, or a list of estates); each has workers who hear
// problems in the grid's WeChat groups and on their rounds. A worker binds
// their WeChat like a deputy (a one-time code from staff) and can then
// report on behalf of a resident (代报) and follow the cases of their grid.

// SourceGrid is a case a grid worker reported on a resident's behalf (网格).
const SourceGrid = "grid"

// Grid is one grid of a station or point, in the directory.
type Grid struct {
	ID   string `json:"id" yaml:"id"`
	Name string `json:"name" yaml:"name"`
	// StationID is the station or point the grid is in.
	StationID string `json:"station" yaml:"station"`
	// Places are the estates (小区) and lanes in it, as residents type them.
	Places []string `json:"places,omitempty" yaml:"places"`
	// Area is its outline, when it is drawn; places alone are enough.
	Area    Area         `json:"area" yaml:"area"`
	Workers []GridWorker `json:"workers,omitempty" yaml:"workers"`
}

// GridWorker is a grid worker (网格员) listed in the directory.
type GridWorker struct {
	ID    string `json:"id" yaml:"id"`
	Name  string `json:"name" yaml:"name"`
	Phone string `json:"phone,omitempty" yaml:"phone"`
}

// GridWorkerRecord is a grid worker with their grid and WeChat binding.
type GridWorkerRecord struct {
	GridWorker
	Grid    Grid       `json:"grid"`
	Bound   bool       `json:"bound"`
	BoundAt *time.Time `json:"bound_at,omitempty"`
}

// Grid returns the grid with the id.
func (d *Directory) Grid(id string) (Grid, bool) {
	for _, g := range d.Grids {
		if g.ID == id {
			return g, true
		}
	}
	return Grid{}, false
}

// GridWorker returns a grid worker and their grid.
func (d *Directory) GridWorker(id string) (GridWorker, Grid, bool) {
	for _, g := range d.Grids {
		for _, w := range g.Workers {
			if w.ID == id {
				return w, g, true
			}
		}
	}
	return GridWorker{}, Grid{}, false
}

// GridsOf returns the grids of a station and its points (a point: its own).
func (d *Directory) GridsOf(stationID string) []Grid {
	units := d.Units(stationID)
	var out []Grid
	for _, g := range d.Grids {
		for _, u := range units {
			if g.StationID == u {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

// GridAt returns the grid a location is in: the grid whose area holds its
// point, else the one whose place the address or label names.
func (d *Directory) GridAt(loc Location) (Grid, bool) {
	if loc.HasPoint() {
		for _, g := range d.Grids {
			if g.Area.Contains(loc.Point()) {
				return g, true
			}
		}
	}
	text := loc.Address + " " + loc.Label
	if strings.TrimSpace(text) == "" {
		return Grid{}, false
	}
	for _, g := range d.Grids {
		for _, p := range g.Places {
			if p != "" && strings.Contains(text, p) {
				return g, true
			}
		}
	}
	return Grid{}, false
}

// GridRecipientPrefix marks a case's reporter that is a grid worker:
// "grid:ID" (Case.Reporter).
const GridRecipientPrefix = "grid:"

// ProxyResident is the resident a grid worker reports for (代报).
type ProxyResident struct {
	Name      string
	Phone     string
	Anonymous bool
}
