package lianxin

import (
	"fmt"
	"strings"
	"time"
)

// Measure names a figure of the numbers (统计): which cases of a period it
// counts. A figure's CaseFilter carries its Measure, so the case list shown
// for a number has exactly that many rows. The store defines each one once,
// for counting and listing alike; the definitions as staff read them are in
// the report package.
type Measure string

// The figures. "In the period" is [From, To) judged as things stood at To;
// a case reopened (重办) counts once per period it was open.
const (
	// MeasureReceived: registered in the period (新登记).
	MeasureReceived Measure = "received"
	// MeasureHandled: open at some time in the period, whether new, carried
	// over or reopened (办理).
	MeasureHandled Measure = "handled"
	// MeasureCarried: handled, registered before the period (上期结转).
	MeasureCarried Measure = "carried"
	// MeasureReopened: reopened in the period (重办).
	MeasureReopened Measure = "reopened"
	// MeasureAccepted: handled and taken up by the end of the period
	// (accepted, answered, forwarded or resolved in its latest round).
	MeasureAccepted Measure = "accepted"
	// MeasureAcceptJudged: handled cases whose response fell due in the
	// period: taken up in it, or its accept deadline passed in it (应受理).
	MeasureAcceptJudged Measure = "accept_judged"
	// MeasureAcceptedOnTime: of those, taken up within the accept deadline
	// every time (按时受理; 响应率 = this / AcceptJudged).
	MeasureAcceptedOnTime Measure = "accepted_on_time"
	// MeasureResolved: handled and resolved at the end of the period, the
	// resolution falling in it (办结).
	MeasureResolved Measure = "resolved"
	// MeasureResolvedOnTime: resolved within the resolve deadline (按期办结).
	MeasureResolvedOnTime Measure = "resolved_on_time"
	// MeasureOpen: handled and still open at the end of the period (在办).
	MeasureOpen Measure = "open"
	// MeasureOverdue: past an accept or resolve deadline, unfinished, at
	// some time in the period (超期).
	MeasureOverdue Measure = "overdue"
	// MeasureRated: rated by the resident in the period (参评); the rating
	// that counts is the last one given in it.
	MeasureRated Measure = "rated"
	// MeasureSatisfied, MeasureFairly, MeasureUnsatisfied: rated, and the
	// last rating in the period was 满意, 基本满意 or 不满意.
	MeasureSatisfied   Measure = "satisfied"
	MeasureFairly      Measure = "fairly_satisfied"
	MeasureUnsatisfied Measure = "unsatisfied"
	// MeasureRatedResolved: resolved in the period and rated since that
	// resolution (参评率 = this / Resolved).
	MeasureRatedResolved Measure = "rated_resolved"
)

// Measures are all the figures, in the order the numbers show them.
var Measures = []Measure{MeasureReceived, MeasureHandled, MeasureCarried, MeasureReopened, MeasureAccepted,
	MeasureAcceptJudged, MeasureAcceptedOnTime, MeasureResolved, MeasureResolvedOnTime, MeasureOpen, MeasureOverdue,
	MeasureRated, MeasureSatisfied, MeasureFairly, MeasureUnsatisfied, MeasureRatedResolved}

// Valid reports whether m is a known measure ("" is: the registered cases).
func (m Measure) Valid() bool {
	if m == "" {
		return true
	}
	for _, k := range Measures {
		if k == m {
			return true
		}
	}
	return false
}

// CaseFacts is one case as the numbers of a period see it: where it belongs
// and which figures it counts in.
type CaseFacts struct {
	CaseID    int64
	Number    string
	Category  string
	StationID string
	DeputyID  string // assignee at the end of the period
	Source    string
	CreatedAt time.Time
	Location  Location
	Status    Status // now, for the map's colours
	Counts    map[Measure]bool
	// Rating is the last rating given in the period ("" for none).
	Rating string
	// AcceptSeconds is how long its latest round taken up in the period
	// waited to be taken up; ResolveSeconds how long its resolution in the
	// period took from the round's start. Negative: none in the period.
	AcceptSeconds, ResolveSeconds float64
}

// RegisterRow is one line of the register (登记簿): the case as it stands
// now, with what the timeline adds.
type RegisterRow struct {
	Case
	Source string
	// AcceptedAt is when its latest round was taken up (受理时间).
	AcceptedAt *time.Time
	// Forwarded are the 转办 entries of its timeline, oldest first: the
	// department's name and the deputy's note.
	Forwarded []string
	// Result is what the deputy wrote on 办结 (or their last answer).
	Result string
	// Progress is the last 进展 the deputy reported.
	Progress string
	// Rating is the resident's last rating.
	Rating string
	// Overdue: a deadline of one of its rounds passed before it was met.
	Overdue bool
}

// SourceLabels are the sources as the register writes them (来源) and
// CaseFilter.Source names them; the store's sourceSQL says the same.
var SourceLabels = map[string]string{SourceWeChat: "微信", SourceVisit: "来访", SourceCall: "来电", SourceOther: "其他渠道", SourceGrid: "网格"}

// SourceOfLabel is the source (Source*) a register label names ("" for none).
func SourceOfLabel(label string) string {
	for code, l := range SourceLabels {
		if l == label {
			return code
		}
	}
	return ""
}

// NoDeputy in CaseFilter.Deputy selects the cases nobody had at the end
// of the period (the district queue, 待分派).
const NoDeputy = "-"

// Audit actions on the register.
const (
	AuditExportUnmasked = "export_unmasked"
	AuditErase          = "erase"
	AuditTypical        = "typical"
	AuditRecompute      = "report_recompute"
	AuditRetention      = "retention_erase"
)

// Timeline events the register adds.
const (
	EventErased  = "erased"  // the resident's contact details were erased
	EventTypical = "typical" // chosen as a typical case (or no longer)
)

// Units returns a station's id with its points' ids, the units whose cases
// are the station's; a point or unknown id returns itself.
func (d *Directory) Units(stationID string) []string {
	units := []string{stationID}
	if s, ok := d.Station(stationID); ok && s.Kind == StationKind {
		for _, p := range d.Points(stationID) {
			units = append(units, p.ID)
		}
	}
	return units
}

// MonthRange is the calendar month "2026-10" in loc: [first day 00:00, next
// month's first day 00:00).
func MonthRange(month string, loc *time.Location) (from, to time.Time, err error) {
	t, err := time.ParseInLocation("2006-01", strings.TrimSpace(month), loc)
	if err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("%q is not a month like 2026-10", month)
	}
	return t, t.AddDate(0, 1, 0), nil
}

// DeputyCaseFacts is one case as a deputy's record (履职档案) of a period
// sees it, from the deputy's own entries on its timeline.
type DeputyCaseFacts struct {
	CaseID    int64
	Number    string
	Category  string
	StationID string
	CreatedAt time.Time
	// Took: the deputy took it up, answered, forwarded, reported progress
	// or resolved it in the period.
	Took     bool
	Answered bool // answered the resident (答复)
	// Forwarded are the deputy's 转办 entries in the period: the
	// department's name and the note.
	Forwarded []string
	Resolved  bool // resolved (办结) by the deputy in the period
	// ResolvedOnTime: every resolution of theirs in the period was within
	// its round's deadline.
	ResolvedOnTime bool
	// AcceptedOnTime: their taking it up came within the accept deadline.
	AcceptedOnTime bool
	// EverForwarded: anyone forwarded the case before the period ended.
	EverForwarded bool
	// Rating is the resident's last rating before the period ended.
	Rating string
}

// DutyDays are the days in [from, to) (in loc) on which the deputy was on
// reception duty by the directory: a reception of their unit naming nobody,
// or any reception naming them.
func (d *Directory) DutyDays(deputyID string, from, to time.Time, loc *time.Location) []time.Time {
	dep, ok := d.Deputy(deputyID)
	if !ok {
		return nil
	}
	var days []time.Time
	for day := from.In(loc); day.Before(to); day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc) {
		if d.onDuty(day, loc)(dep) {
			days = append(days, time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, loc))
		}
	}
	return days
}

// Round is one handling round of a case: the first from registration,
// another from each 重办, with its deadlines and when it was taken up and
// closed.
type Round struct {
	N          int        `json:"round" db:"round"`
	Start      time.Time  `json:"started_at" db:"started_at"`
	AcceptDue  *time.Time `json:"accept_due,omitempty" db:"accept_due"`
	ResolveDue *time.Time `json:"resolve_due,omitempty" db:"resolve_due"`
	AcceptedAt *time.Time `json:"accepted_at,omitempty" db:"accepted_at"`
	ClosedAt   *time.Time `json:"closed_at,omitempty" db:"closed_at"`
	Outcome    string     `json:"outcome,omitempty" db:"outcome"` // "", "resolved", "cancelled"
}
