package configs

import (
	"strings"
	"testing"
)

// validGrids is validDirectory with a grid of p1 and its worker.
const validGrids = validDirectory + `grids:
  - id: g1
    name: 一网格
    station: p1
    places: [一区]
    workers:
      - {id: w1, name: 张网格, phone: "0353-0000301"}
      - {id: w2, name: 王网格}
`

func TestLoadDirectoryGrids(t *testing.T) {
	d, err := LoadDirectory([]byte(validGrids), testCategories)
	if err != nil {
		t.Fatal(err)
	}
	if w, g, ok := d.GridWorker("w2"); !ok || g.ID != "g1" || w.Name != "王网格" {
		t.Errorf("GridWorker(w2) = %+v %+v %v", w, g, ok)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"unknown station", "    station: p1\n", "    station: p9\n", `g1: station "p9" is not a station or point`},
		{"nowhere", "    places: [一区]\n", "", "g1: a grid needs places (its estates) or an area"},
		{"worker id reuses a deputy's", "{id: w2,", "{id: d1,", `id "d1" is already used`},
		{"worker without a name", "{id: w2, name: 王网格}", "{id: w2}", "w2: name is missing"},
		{"phone twice", "{id: w2, name: 王网格}", `{id: w2, name: 王网格, phone: "0353-0000301"}`, "phone 0353-0000301 is already w1's"},
		{"bad area", "    places: [一区]\n", "    area:\n      center: {lat: 37.855, lng: 113.565}\n", "g1: a center needs radius_m"},
	} {
		src := strings.Replace(validGrids, tc.old, tc.new, 1)
		if _, err := LoadDirectory([]byte(src), testCategories); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want %q", tc.name, err, tc.want)
		}
	}
}
