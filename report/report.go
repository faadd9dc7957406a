// Package report owns what the stations report from the register: the
// register export (登记簿, Excel and CSV), the numbers (统计: the figures,
// 三率, their breakdowns and SVG charts), the monthly report (月度报告) and
// the deputy's record (履职档案), as Go values, HTML documents and
// fragments, Excel sheets, and PDF through headless Chromium.
//
// It reads the register through the narrow interfaces below, in the root
// package's terms; the store implements them. It owns no HTTP: the CLI
// (cmd/lianxin) and the console call it and serve what it makes. Every
// figure carries the lianxin.CaseFilter that lists the cases it counts, so
// a page can link each number to its case list.
package report

import (
	"context"
	"time"

	"github.com/lianxin/lianxin"
)

// Register is the register as the reports read it (the store).
type Register interface {
	// RegisterRows streams the cases f selects, oldest first.
	RegisterRows(ctx context.Context, f lianxin.CaseFilter, fn func(*lianxin.RegisterRow) error) error
	// Facts streams the cases that count in f's period, with their figures.
	Facts(ctx context.Context, f lianxin.CaseFilter, fn func(*lianxin.CaseFacts) error) error
	// CountMeasures counts the cases f selects in each measure.
	CountMeasures(ctx context.Context, f lianxin.CaseFilter, ms []lianxin.Measure) (map[lianxin.Measure]int, error)
	// Rounds are a case's handling rounds.
	Rounds(ctx context.Context, caseID int64) ([]lianxin.Round, error)
	// DeputyFacts streams the cases a deputy acted on in [from, to).
	DeputyFacts(ctx context.Context, deputyID string, from, to time.Time, fn func(*lianxin.DeputyCaseFacts) error) error
}

// Snapshots keep a finished period's figures as first generated.
type Snapshots interface {
	Snapshot(ctx context.Context, kind, scope string) ([]byte, time.Time, bool, error)
	PutSnapshot(ctx context.Context, kind, scope string, data []byte, replace bool, a lianxin.AuditEntry) ([]byte, time.Time, error)
}

// Texts are the Chinese texts of configs/messages.yaml (flows.Texts).
type Texts interface {
	Get(key string, pairs ...string) string
}

// TextKeys are the texts of messages.yaml the register export uses.
var TextKeys = []string{
	"register_sheet", "register_col_number", "register_col_created", "register_col_source", "register_col_category",
	"register_col_resident", "register_col_phone", "register_col_place", "register_col_description", "register_col_station",
	"register_col_deputy", "register_col_departments", "register_col_accepted", "register_col_resolved", "register_col_result",
	"register_col_rating", "register_col_overdue", "register_resident", "register_anonymous", "register_erased",
	"register_district_queue", "register_no_deputy", "register_unrated", "register_yes", "register_no", "register_resolved_plain",
	"status_registered", "status_accepted", "status_forwarded", "status_resolved", "status_reopened", "status_cancelled",
	"rating_satisfied", "rating_fairly_satisfied", "rating_unsatisfied",
}

// Weights weigh the ratings in the weighted 满意率.
type Weights struct {
	Satisfied       float64 `json:"satisfied"`
	FairlySatisfied float64 `json:"fairly_satisfied"`
	Unsatisfied     float64 `json:"unsatisfied"`
}

// DefaultWeights are the common 12345 ones: 满意 + 0.9 × 基本满意.
var DefaultWeights = Weights{Satisfied: 1, FairlySatisfied: 0.9}

// Config is what a Reporter works with.
type Config struct {
	Register   Register
	Snapshots  Snapshots // nil: finished months are computed afresh each time
	Texts      Texts
	Directory  *lianxin.Directory
	Categories lianxin.Categories
	// Location is the stations' time zone: months and days are theirs.
	Location *time.Location
	Weights  Weights
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Reporter makes the register's exports and reports.
type Reporter struct {
	cfg Config
}

// New returns a Reporter.
func New(cfg Config) *Reporter {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.Weights == (Weights{}) {
		cfg.Weights = DefaultWeights
	}
	if cfg.Directory == nil {
		cfg.Directory = &lianxin.Directory{}
	}
	return &Reporter{cfg: cfg}
}

func (r *Reporter) now() time.Time { return r.cfg.Now() }

func (r *Reporter) txt(key string, pairs ...string) string { return r.cfg.Texts.Get(key, pairs...) }

// unitName is a station's or point's name; "" is the district queue.
func (r *Reporter) unitName(id string) string {
	if id == "" {
		return r.txt("register_district_queue")
	}
	if s, ok := r.cfg.Directory.Station(id); ok {
		return s.Name
	}
	return id
}

func (r *Reporter) deputyName(id string) string {
	if id == "" {
		return ""
	}
	if d, ok := r.cfg.Directory.Deputy(id); ok {
		return d.Name
	}
	return id
}

// department is the department a 转办 entry names ("矿区供热站(供热公司) 请尽快"):
// the longest directory name it starts with, else its first word.
func (r *Reporter) department(entry string) string {
	best := ""
	for _, d := range r.cfg.Directory.Departments {
		if len(d.Name) > len(best) && len(entry) >= len(d.Name) && entry[:len(d.Name)] == d.Name {
			best = d.Name
		}
	}
	if best != "" {
		return best
	}
	for i, c := range entry {
		if c == ' ' || c == '\u3000' {
			return entry[:i]
		}
	}
	return entry
}

// local is a time as the stations read it.
func (r *Reporter) local(t time.Time) time.Time { return t.In(r.cfg.Location) }
