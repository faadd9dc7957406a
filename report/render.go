package report

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lianxin/lianxin"
)

// The documents' words live in the templates beside this file: the
// register's plain style, written by whoever writes the stations' reports.
//
//go:embed templates
var templateFS embed.FS

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"pct":       pct,
	"hours":     hours,
	"date":      func(t time.Time) string { return t.Format("2006年1月2日") },
	"dateShort": func(t time.Time) string { return t.Format("01-02") },
	"datetime":  func(t time.Time) string { return t.Format("2006-01-02 15:04") },
	"monthZh":   monthZh,
	"n": func(r Row, m string) int {
		return r.Figures[lianxin.Measure(m)].Value
	},
	"trendChart":    TrendChart,
	"barChart":      func(rows []Row, m, title string) template.HTML { return BarChart(rows, lianxin.Measure(m), title) },
	"stationsChart": StationsChart,
	"dotMap":        DotMap,
	"join":          joinZh,
	"add":           func(a, b int) int { return a + b },
	"len0":          func(n int) bool { return n == 0 },
	"fig":           fig,
	"short":         shortName,
	"clause":        clause,
	"breakdown": func(head string, rows []Row, total Row, link LinkFunc) map[string]any {
		return map[string]any{"Head": head, "Rows": rows, "Total": total, "Link": link}
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
}).ParseFS(templateFS, "templates/*.html"))

// recordSheetLabels are the words of the deputy's record workbook.
var recordSheetLabels = func() (l struct {
	Summary     string   `yaml:"summary"`
	Title       string   `yaml:"title"`
	Deputy      string   `yaml:"deputy"`
	Station     string   `yaml:"station"`
	Period      string   `yaml:"period"`
	Taken       string   `yaml:"taken"`
	OnTheSpot   string   `yaml:"on_the_spot"`
	Answered    string   `yaml:"answered"`
	Forwarded   string   `yaml:"forwarded"`
	Resolved    string   `yaml:"resolved"`
	OnTime      string   `yaml:"on_time"`
	Response    string   `yaml:"response"`
	Rated       string   `yaml:"rated"`
	Satisfied   string   `yaml:"satisfied"`
	Reception   string   `yaml:"reception"`
	Opinions    string   `yaml:"opinions"`
	ForwardedTo string   `yaml:"forwarded_to"`
	Ratings     string   `yaml:"ratings"`
	Cases       string   `yaml:"cases"`
	CaseCols    []string `yaml:"case_cols"`
	Yes         string   `yaml:"yes"`
}) {
	b, err := templateFS.ReadFile("templates/record_sheet.yaml")
	if err == nil {
		err = yaml.Unmarshal(b, &l)
	}
	if err != nil {
		panic(fmt.Sprintf("report: templates/record_sheet.yaml: %v", err)) // embedded: a build defect
	}
	return l
}()

// render executes a document template into w (buffered, so a failure
// leaves w untouched).
func (r *Reporter) render(w io.Writer, name string, data map[string]any) error {
	data["Loc"] = r.cfg.Location
	var buf bytes.Buffer
	if err := templates.ExecuteTemplate(&buf, name, data); err != nil {
		return fmt.Errorf("report: %s: %w", name, err)
	}
	_, err := buf.WriteTo(w)
	return err
}

// LinkFunc is the URL of the case list a figure counts (the console's
// /console/cases?… for the filter).
type LinkFunc func(lianxin.CaseFilter) string

// fig is a figure of a row, linked to its case list when there is a link.
func fig(link LinkFunc, r Row, m string) template.HTML {
	f := r.Figures[lianxin.Measure(m)]
	n := fmt.Sprint(f.Value)
	if link == nil {
		return template.HTML(n)
	}
	return template.HTML(`<a href="` + template.HTMLEscapeString(link(f.Filter)) + `">` + n + `</a>`)
}

// StatsHTML is the numbers as a whole page (the CLI's --html, and a model
// for the console's /console/stats); link may be nil.
func (r *Reporter) StatsHTML(w io.Writer, s *Stats, link LinkFunc) error {
	return r.render(w, "stats.html", map[string]any{"S": s, "Link": link, "Dir": r.cfg.Directory, "Units": s.Filter.Units})
}

// StatsFragment is one of the numbers' fragments for a console page to
// place: "summary_table", "breakdown" rows, "charts" or "definitions".
func (r *Reporter) StatsFragment(name string, s *Stats, rows []Row, head string, link LinkFunc) (template.HTML, error) {
	var data any
	switch name {
	case "breakdown":
		data = map[string]any{"Head": head, "Rows": rows, "Total": s.Total, "Link": link}
	case "definitions":
		data = s
	default:
		data = map[string]any{"S": s, "Link": link, "Dir": r.cfg.Directory, "Units": s.Filter.Units}
	}
	var b bytes.Buffer
	if err := templates.ExecuteTemplate(&b, name, data); err != nil {
		return "", fmt.Errorf("report: %s: %w", name, err)
	}
	return template.HTML(b.String()), nil
}

// pct is a rate as a percentage with one decimal ("—" when undefined).
func pct(r Rate) string {
	if !r.OK {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", math.Round(r.Value*1000)/10)
}

func hours(h float64) string {
	if h == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f", h)
}

// clause drops a sentence's closing punctuation, for text a template goes
// on after: «群众反映：暖气不热。» would close twice.
func clause(s string) string {
	return strings.TrimRight(strings.TrimSpace(s), "。！？；，.!?;, ")
}

// monthZh is "2026-10" as 2026年10月.
func monthZh(m string) string {
	t, err := time.Parse("2006-01", m)
	if err != nil {
		return m
	}
	return t.Format("2006年1月")
}
