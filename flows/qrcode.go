package flows

import (
	"time"

	"github.com/lianxin/lianxin"
)

// Deputy and station QR codes (代表码). A scan arrives as subscribe (a new
// follower, EventKey qrscene_SCENE) or SCAN (a follower, EventKey SCENE).
// A deputy's or station's scan is remembered in the session for
// lianxin.ScanMemory and decides the resident's next report: a deputy's
// code makes that deputy the assignee («扫代表码») and their station the
// case's, a station's code the station. A draft open while they scan takes
// it at once. A bind:TOKEN scene binds a deputy's WeChat as 绑定 CODE does.

// qrScan is a scanned deputy's or station's code.
type qrScan struct {
	Kind string `json:"k"`
	ID   string `json:"i"`
	At   int64  `json:"t"` // unix seconds
}

// scanEvent handles a subscribe or SCAN carrying one of our scenes; ok is
// false for any other event.
func (t *turn) scanEvent() (string, bool, error) {
	if t.m.Event != lianxin.EventSubscribe && t.m.Event != lianxin.EventScan {
		return "", false, nil
	}
	kind, id, ok := lianxin.ParseScene(t.m.EventKey)
	if !ok {
		return "", false, nil
	}
	welcome := ""
	if t.m.Event == lianxin.EventSubscribe {
		welcome = t.txt("qr_welcome")
	}
	if kind == lianxin.SceneBind {
		return join(welcome, t.bind(id)), true, nil
	}
	var who, to string
	switch kind {
	case lianxin.SceneDeputy:
		d, ok := t.dir.Deputy(id)
		if !ok {
			// A poster of a deputy no longer in the directory: still welcome.
			return join(welcome, t.txt("qr_unknown"), t.txt("menu")), true, nil
		}
		who, to = t.txt("qr_who_deputy", "deputy", d.Name, "station", t.stationName(d.StationID)), t.txt("qr_to_deputy")
	case lianxin.SceneStation:
		st, ok := t.dir.Station(id)
		if !ok {
			return join(welcome, t.txt("qr_unknown"), t.txt("menu")), true, nil
		}
		who, to = t.txt("qr_who_station", "station", st.Name), t.txt("qr_to_station")
	}
	t.s.Scan = &qrScan{Kind: kind, ID: id, At: t.now.Unix()}
	if t.s.inFlow() && t.s.Ans != nil {
		t.applyScan()
		reply := join(welcome, t.txt("qr_scanned_draft", "who", who, "to", to))
		if !t.s.Paused {
			reply = join(reply, t.short())
		}
		return reply, true, nil
	}
	return join(welcome, t.txt("qr_scanned", "who", who, "to", to, "days", itoa(int(lianxin.ScanMemory/(24*time.Hour)))), t.txt("menu")), true, nil
}

// scan is the remembered scan still in force, if any.
func (t *turn) scan() (*qrScan, bool) {
	sc := t.s.Scan
	if sc == nil || t.now.Sub(time.Unix(sc.At, 0)) > lianxin.ScanMemory {
		return nil, false
	}
	return sc, true
}

// applyScan gives the draft the scanned deputy's station (or the scanned
// station) and remembers the deputy, so no station is asked for.
func (t *turn) applyScan() {
	sc, ok := t.scan()
	a := t.s.Ans
	if !ok || a == nil {
		return
	}
	station := sc.ID
	a.ScanDeputy = ""
	if sc.Kind == lianxin.SceneDeputy {
		d, ok := t.dir.Deputy(sc.ID)
		if !ok {
			return
		}
		station, a.ScanDeputy = d.StationID, d.ID
	}
	unit, ok := t.dir.Station(station)
	if !ok {
		return
	}
	a.Station, a.StationReason, a.Scanned = unit.ID, t.txt("reason_scan_station", "unit", unit.Name), true
	if a.ScanDeputy != "" {
		d, _ := t.dir.Deputy(a.ScanDeputy)
		a.StationReason = t.txt("reason_scan_deputy", "deputy", d.Name, "unit", unit.Name)
	}
	if st := t.stepOfKind(StepStation); st != nil {
		t.s.markDone(st.ID)
	}
}

// scannedDeputy is the deputy a report's scan names, when they may still
// take it (in the directory, not one who returned it).
func (t *turn) scannedDeputy(r lianxin.Report, exclude []string) (lianxin.Deputy, bool) {
	if r.ScanDeputy == "" {
		return lianxin.Deputy{}, false
	}
	for _, x := range exclude {
		if x == r.ScanDeputy {
			return lianxin.Deputy{}, false
		}
	}
	return t.dir.Deputy(r.ScanDeputy)
}
