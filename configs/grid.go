package configs

// grids checks the directory's grids (网格): each in a station or point of
// the file, with places or an area to find its cases by, and workers with
// ids unique across the file (they bind with `lianxin grid invite ID`).
func (c *dirCheck) grids() {
	phones := map[string]string{}
	for i, g := range c.d.Grids {
		n := at(c.root, "grids", i)
		c.id(n, g.ID, g.Name)
		if _, ok := c.d.Station(g.StationID); !ok {
			c.bad(at(n, "station"), "%s: station %q is not a station or point in this file", g.ID, g.StationID)
		}
		if len(g.Area.Polygon) > 0 || g.Area.Center != nil {
			c.area(n, g.ID, g.Area)
		} else if len(g.Places) == 0 {
			c.bad(n, "%s: a grid needs places (its estates) or an area", g.ID)
		}
		for j, p := range g.Places {
			if p == "" {
				c.bad(at(n, "places", j), "%s: a place name is empty", g.ID)
			}
		}
		for j, w := range g.Workers {
			wn := at(n, "workers", j)
			c.id(wn, w.ID, w.Name)
			if w.Phone == "" {
				continue
			}
			if !phonePattern.MatchString(w.Phone) {
				c.bad(at(wn, "phone"), "%s: phone %q is not a telephone number", w.ID, w.Phone)
			} else if other, dup := phones[w.Phone]; dup {
				c.bad(at(wn, "phone"), "%s: phone %s is already %s's", w.ID, w.Phone, other)
			} else {
				phones[w.Phone] = w.ID
			}
		}
	}
}
