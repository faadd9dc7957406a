package report

import (
	"context"
	"math"
	"sort"
	"time"

	"github.com/lianxin/lianxin"
)

// Figure is one number of the numbers with the filter that lists the cases
// it counts: lianxin.CaseFilter's store query returns exactly Value cases.
type Figure struct {
	Value  int                `json:"value"`
	Filter lianxin.CaseFilter `json:"filter"`
}

// Rate is a share: Num over Den (Value is 0 when Den is 0, and OK false).
type Rate struct {
	Num   float64 `json:"num"`
	Den   int     `json:"den"`
	Value float64 `json:"value"`
	OK    bool    `json:"ok"`
}

func rate(num float64, den int) Rate {
	if den == 0 {
		return Rate{Num: num}
	}
	return Rate{Num: num, Den: den, Value: num / float64(den), OK: true}
}

// Rates are 三率 and the rating participation rate. Their definitions, as
// staff read them on the page, are in the templates (definitions.html).
type Rates struct {
	// Response (响应率): taken up within the accept deadline, among the
	// cases whose response fell due in the period.
	Response Rate `json:"response"`
	// Resolve (解决率): resolved among the cases handled; ResolveOnTime
	// (按期解决率): resolved within the resolve deadline among them.
	Resolve       Rate `json:"resolve"`
	ResolveOnTime Rate `json:"resolve_on_time"`
	// Satisfied (满意率): 满意 among the rated; SatisfiedOrFairly: 满意
	// or 基本满意 among them; Weighted: the configured weights (default
	// 满意 + 0.9 × 基本满意) among them.
	Satisfied         Rate `json:"satisfied"`
	SatisfiedOrFairly Rate `json:"satisfied_or_fairly"`
	Weighted          Rate `json:"weighted"`
	// Participation (参评率): rated since resolved, among the resolved.
	Participation Rate `json:"participation"`
}

// Durations are how long cases waited, in hours.
type Durations struct {
	N   int     `json:"n"`
	Avg float64 `json:"avg_hours"`
	P90 float64 `json:"p90_hours"`
}

// Row is the figures of one part of the register (a category, a station,
// a deputy, a source) or of all of it.
type Row struct {
	Key     string                     `json:"key"`
	Name    string                     `json:"name"`
	Figures map[lianxin.Measure]Figure `json:"figures"`
	Rates   Rates                      `json:"rates"`
	Accept  Durations                  `json:"time_to_accept"`
	Resolve Durations                  `json:"time_to_resolve"`
}

// N is the value of a figure (0 when absent).
func (r *Row) N(m lianxin.Measure) int { return r.Figures[m].Value }

// TrendPoint is one month of the trend.
type TrendPoint struct {
	Month   string                     `json:"month"`
	Figures map[lianxin.Measure]Figure `json:"figures"`
}

// MapPoint is a case's location on the dot map.
type MapPoint struct {
	Number string  `json:"number"`
	Lat    float64 `json:"lat"`
	Lng    float64 `json:"lng"`
	Open   bool    `json:"open"`
}

// Stats are the numbers of a period.
type Stats struct {
	// Filter is what was counted: the period, and a station when scoped.
	Filter      lianxin.CaseFilter `json:"filter"`
	Month       string             `json:"month,omitempty"`
	StationID   string             `json:"station_id,omitempty"`
	StationName string             `json:"station_name,omitempty"`
	From        time.Time          `json:"from"`
	To          time.Time          `json:"to"`
	// At is when the figures were judged: the period's end, or the time
	// they were computed if the period had not ended.
	At          time.Time    `json:"at"`
	GeneratedAt time.Time    `json:"generated_at"`
	Weights     Weights      `json:"weights"`
	Total       Row          `json:"total"`
	ByCategory  []Row        `json:"by_category"`
	ByStation   []Row        `json:"by_station"`
	ByDeputy    []Row        `json:"by_deputy"`
	BySource    []Row        `json:"by_source"`
	Trend       []TrendPoint `json:"trend"`
	Points      []MapPoint   `json:"points"`
}

// trendMeasures are what the month trend counts.
var trendMeasures = []lianxin.Measure{lianxin.MeasureReceived, lianxin.MeasureHandled, lianxin.MeasureResolved,
	lianxin.MeasureOverdue, lianxin.MeasureRated, lianxin.MeasureSatisfied}

// maxPoints bounds the dot map: beyond it the SVG grows without showing more.
const maxPoints = 5000

// StatsFor computes the numbers of the cases f selects (its period and
// station; its Measure is ignored). A zero f.From is the beginning of the
// register, a zero f.To is now. trendMonths is how many months the trend
// shows, ending with the period's last.
func (r *Reporter) StatsFor(ctx context.Context, f lianxin.CaseFilter, trendMonths int) (*Stats, error) {
	now := r.now()
	f.Measure, f.Limit = "", 0
	s := &Stats{Filter: f, From: f.From, To: f.To, GeneratedAt: now, Weights: r.cfg.Weights}
	if s.To.IsZero() || s.To.After(now) {
		s.At = now
	} else {
		s.At = s.To
	}
	acc := newAggregator(r, f)
	err := r.cfg.Register.Facts(ctx, f, func(cf *lianxin.CaseFacts) error {
		acc.add(cf)
		if cf.Location.HasPoint() && cf.Counts[lianxin.MeasureHandled] && len(s.Points) < maxPoints {
			s.Points = append(s.Points, MapPoint{Number: cf.Number, Lat: cf.Location.Lat, Lng: cf.Location.Lng,
				Open: cf.Counts[lianxin.MeasureOpen]})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.Total, s.ByCategory, s.ByStation, s.ByDeputy, s.BySource = acc.rows()
	if trendMonths > 0 {
		if s.Trend, err = r.trend(ctx, f, trendMonths); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// trend counts each of the months ending with the period's last (or this
// month), each judged at its own end.
func (r *Reporter) trend(ctx context.Context, f lianxin.CaseFilter, months int) ([]TrendPoint, error) {
	end := f.To
	if end.IsZero() || end.After(r.now()) {
		end = r.now()
	}
	last := r.local(end.Add(-time.Nanosecond))
	first := time.Date(last.Year(), last.Month()-time.Month(months-1), 1, 0, 0, 0, 0, r.cfg.Location)
	var out []TrendPoint
	for m := first; !m.After(last); m = m.AddDate(0, 1, 0) {
		mf := f
		mf.From, mf.To = m, m.AddDate(0, 1, 0)
		counts, err := r.cfg.Register.CountMeasures(ctx, mf, trendMeasures)
		if err != nil {
			return nil, err
		}
		p := TrendPoint{Month: m.Format("2006-01"), Figures: map[lianxin.Measure]Figure{}}
		for _, ms := range trendMeasures {
			ff := mf
			ff.Measure = ms
			p.Figures[ms] = Figure{Value: counts[ms], Filter: ff}
		}
		out = append(out, p)
	}
	return out, nil
}

// aggregator adds the cases' facts up into rows.
type aggregator struct {
	r    *Reporter
	base lianxin.CaseFilter
	all  *rowAcc
	dims [4]map[string]*rowAcc // category, station, deputy, source
}

type rowAcc struct {
	key, name       string
	filter          lianxin.CaseFilter
	counts          map[lianxin.Measure]int
	accept, resolve []float64
	weighted        float64
}

func newAggregator(r *Reporter, base lianxin.CaseFilter) *aggregator {
	a := &aggregator{r: r, base: base, all: &rowAcc{key: "", filter: base, counts: map[lianxin.Measure]int{}}}
	for i := range a.dims {
		a.dims[i] = map[string]*rowAcc{}
	}
	return a
}

func (a *aggregator) row(dim int, key string, filter func(*lianxin.CaseFilter), name string) *rowAcc {
	acc := a.dims[dim][key]
	if acc == nil {
		f := a.base
		filter(&f)
		acc = &rowAcc{key: key, name: name, filter: f, counts: map[lianxin.Measure]int{}}
		a.dims[dim][key] = acc
	}
	return acc
}

func (a *aggregator) add(cf *lianxin.CaseFacts) {
	r := a.r
	// Points roll up into their station, unless the numbers are one
	// station's or point's: then its units are shown one by one.
	station := cf.StationID
	if s, ok := r.cfg.Directory.StationOf(cf.StationID); ok && len(a.base.Units) == 0 {
		station = s.ID
	}
	deputy := cf.DeputyID
	rows := []*rowAcc{a.all,
		a.row(0, cf.Category, func(f *lianxin.CaseFilter) { f.Category = cf.Category }, r.cfg.Categories.Name(cf.Category)),
		a.row(1, station, func(f *lianxin.CaseFilter) {
			if len(f.Units) > 0 {
				f.Units = []string{station}
			} else {
				f.Units = r.cfg.Directory.Units(station)
			}
		}, r.unitName(station)),
		a.row(2, deputy, func(f *lianxin.CaseFilter) {
			f.Deputy = deputy
			if deputy == "" {
				f.Deputy = lianxin.NoDeputy
			}
		}, r.deputyLabel(deputy)),
		a.row(3, cf.Source, func(f *lianxin.CaseFilter) { f.Source = cf.Source }, cf.Source),
	}
	w := r.cfg.Weights
	for _, acc := range rows {
		for m, ok := range cf.Counts {
			if ok {
				acc.counts[m]++
			}
		}
		if cf.Counts[lianxin.MeasureRated] {
			switch cf.Rating {
			case lianxin.Satisfied:
				acc.weighted += w.Satisfied
			case lianxin.FairlySatisfied:
				acc.weighted += w.FairlySatisfied
			case lianxin.Unsatisfied:
				acc.weighted += w.Unsatisfied
			}
		}
		if cf.AcceptSeconds >= 0 {
			acc.accept = append(acc.accept, cf.AcceptSeconds)
		}
		if cf.ResolveSeconds >= 0 && cf.Counts[lianxin.MeasureResolved] {
			acc.resolve = append(acc.resolve, cf.ResolveSeconds)
		}
	}
}

func (r *Reporter) deputyLabel(id string) string {
	if id == "" {
		return r.txt("register_no_deputy")
	}
	return r.deputyName(id)
}

func (a *aggregator) rows() (total Row, byCategory, byStation, byDeputy, bySource []Row) {
	total = a.all.row()
	out := make([][]Row, len(a.dims))
	for i, m := range a.dims {
		for _, acc := range m {
			out[i] = append(out[i], acc.row())
		}
	}
	// Categories and stations in the directory's order, deputies by how
	// much they handled, the unknown last.
	catPos := map[string]int{}
	for i, c := range a.r.cfg.Categories {
		catPos[c.Key] = i
	}
	stPos := map[string]int{}
	for i, s := range a.r.cfg.Directory.Stations {
		stPos[s.ID] = i
	}
	order := func(rows []Row, pos map[string]int) {
		sort.SliceStable(rows, func(i, j int) bool {
			pi, oki := pos[rows[i].Key]
			pj, okj := pos[rows[j].Key]
			if oki != okj {
				return oki
			}
			if !oki {
				return rows[i].Key < rows[j].Key
			}
			return pi < pj
		})
	}
	order(out[0], catPos)
	order(out[1], stPos)
	sort.SliceStable(out[2], func(i, j int) bool {
		a, b := out[2][i], out[2][j]
		if (a.Key == "") != (b.Key == "") {
			return b.Key == ""
		}
		if a.N(lianxin.MeasureHandled) != b.N(lianxin.MeasureHandled) {
			return a.N(lianxin.MeasureHandled) > b.N(lianxin.MeasureHandled)
		}
		return a.Key < b.Key
	})
	sort.SliceStable(out[3], func(i, j int) bool { return out[3][i].Key < out[3][j].Key })
	return total, out[0], out[1], out[2], out[3]
}

func (acc *rowAcc) row() Row {
	row := Row{Key: acc.key, Name: acc.name, Figures: map[lianxin.Measure]Figure{}}
	for _, m := range lianxin.Measures {
		f := acc.filter
		f.Measure = m
		row.Figures[m] = Figure{Value: acc.counts[m], Filter: f}
	}
	n := acc.counts
	rated := n[lianxin.MeasureRated]
	row.Rates = Rates{
		Response:          rate(float64(n[lianxin.MeasureAcceptedOnTime]), n[lianxin.MeasureAcceptJudged]),
		Resolve:           rate(float64(n[lianxin.MeasureResolved]), n[lianxin.MeasureHandled]),
		ResolveOnTime:     rate(float64(n[lianxin.MeasureResolvedOnTime]), n[lianxin.MeasureHandled]),
		Satisfied:         rate(float64(n[lianxin.MeasureSatisfied]), rated),
		SatisfiedOrFairly: rate(float64(n[lianxin.MeasureSatisfied]+n[lianxin.MeasureFairly]), rated),
		Weighted:          rate(math.Round(acc.weighted*1000)/1000, rated),
		Participation:     rate(float64(n[lianxin.MeasureRatedResolved]), n[lianxin.MeasureResolved]),
	}
	row.Accept, row.Resolve = durations(acc.accept), durations(acc.resolve)
	return row
}

// durations summarises waits in seconds as hours: the mean and the 90th
// percentile (nearest rank).
func durations(secs []float64) Durations {
	if len(secs) == 0 {
		return Durations{}
	}
	sorted := append([]float64(nil), secs...)
	sort.Float64s(sorted)
	sum := 0.0
	for _, s := range sorted {
		sum += s
	}
	rank := int(math.Ceil(0.9*float64(len(sorted)))) - 1
	h := func(s float64) float64 { return math.Round(s/3600*10) / 10 }
	return Durations{N: len(sorted), Avg: h(sum / float64(len(sorted))), P90: h(sorted[rank])}
}
