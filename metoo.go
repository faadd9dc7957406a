package lianxin

import (
	"slices"
	"sort"
	"time"
)

// Recurring problems (每月一题) and «me too»: a resident about to report
// what a neighbour already reported nearby is offered to join that case
// (同一件) instead: they become its supporter, are told its progress and
// outcome, and the case shows how many residents it concerns. Similar
// cases, close together in a period, are grouped for staff, who (or a
// deputy) can turn a group into a formal suggestion (建议).

// Timeline events of «me too» and suggestions.
const (
	// EventSupported: another resident said it is the same problem (staff).
	EventSupported = "supported"
	// EventSuggestion: the case went into a suggestion (staff), and the
	// suggestion's outcome (resident).
	EventSuggestion        = "suggestion"
	EventSuggestionOutcome = "suggestion_outcome"
)

// MeTooConfig is when a new report is offered to join an open case: same
// category, within RadiusM metres, registered within Window.
type MeTooConfig struct {
	RadiusM float64
	Window  time.Duration
}

// Supporter is a resident who joined a case as the same problem (同一件),
// or the grid worker who reported it for a resident (Role "reporter").
type Supporter struct {
	CaseID    int64     `db:"case_id"`
	OpenID    string    `db:"openid"`
	Phone     string    `db:"phone"`
	Text      string    `db:"text"`
	Role      string    `db:"role"`
	CreatedAt time.Time `db:"created_at"`
}

// Supporter roles.
const (
	SupporterResident = "resident" // joined with 同一件
	SupporterReporter = "reporter" // the grid worker who reported it for a resident
)

// Join is a resident joining an open case instead of reporting it again.
type Join struct {
	CaseID    int64
	OpenID    string
	Phone     string
	Text      string
	Photos    []int64 // the draft's photos and voice, added to the case
	SourceKey string
	Events    []Event
}

// NearbyCase is an open case near a point, as the «me too» offer reads it.
type NearbyCase struct {
	Case
	DistanceM float64
}

// CaseGroup is similar cases grouped for staff: the same category, each
// within a radius of another, registered in a period.
type CaseGroup struct {
	Category  string
	Cases     []CaseRow
	Residents int // reporters and supporters, each counted once
	Center    Point
	From, To  time.Time
}

// GroupSimilar groups cases with coordinates by category into clusters in
// which every case is within radiusM of another (single linkage), keeping
// clusters of at least minSize cases, biggest first. residents counts a
// case's residents (1 plus its supporters).
func GroupSimilar(cases []CaseRow, radiusM float64, minSize int, residents func(CaseRow) int) []CaseGroup {
	byCat := map[string][]CaseRow{}
	var cats []string
	for _, c := range cases {
		if !c.Location.HasPoint() || c.MergedInto != "" {
			continue
		}
		if _, ok := byCat[c.CategoryKey]; !ok {
			cats = append(cats, c.CategoryKey)
		}
		byCat[c.CategoryKey] = append(byCat[c.CategoryKey], c)
	}
	var groups []CaseGroup
	for _, cat := range cats {
		cs := byCat[cat]
		parent := make([]int, len(cs))
		for i := range parent {
			parent[i] = i
		}
		find := func(i int) int {
			for parent[i] != i {
				parent[i] = parent[parent[i]]
				i = parent[i]
			}
			return i
		}
		for i := range cs {
			for j := i + 1; j < len(cs); j++ {
				if DistanceM(cs[i].Location.Point(), cs[j].Location.Point()) <= radiusM {
					parent[find(i)] = find(j)
				}
			}
		}
		members := map[int][]CaseRow{}
		var roots []int
		for i := range cs {
			r := find(i)
			if _, ok := members[r]; !ok {
				roots = append(roots, r)
			}
			members[r] = append(members[r], cs[i])
		}
		for _, r := range roots {
			m := members[r]
			if len(m) < minSize {
				continue
			}
			sort.Slice(m, func(i, j int) bool { return m[i].CreatedAt.Before(m[j].CreatedAt) })
			g := CaseGroup{Category: cat, Cases: m, From: m[0].CreatedAt, To: m[len(m)-1].CreatedAt}
			for _, c := range m {
				g.Residents += residents(c)
				g.Center.Lat += c.Location.Lat / float64(len(m))
				g.Center.Lng += c.Location.Lng / float64(len(m))
			}
			groups = append(groups, g)
		}
	}
	slices.SortStableFunc(groups, func(a, b CaseGroup) int {
		if a.Residents != b.Residents {
			return b.Residents - a.Residents
		}
		return len(b.Cases) - len(a.Cases)
	})
	return groups
}
