package report

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
	"go.yaml.in/yaml/v3"

	"github.com/lianxin/lianxin"
)

// The written suggestions (书面建议) a legislative contact point sends
// upward after a consultation: per article, the substance of the opinions
// (each point with how many said it), how many residents, the
// representative wording, the outcome staff marked, and the station's
// recommendation. As a printable document (HTML, and PDF through
// Chromium) and an Excel workbook. No resident's name or phone is in
// either: they stay in the console.

// OpinionCounter counts the consultation opinions a deputy gathered in a
// period, for their record (the store implements it beside Register).
type OpinionCounter interface {
	OpinionsGathered(ctx context.Context, deputyID string, from, to time.Time) (int, error)
}

// WrittenSuggestions is a consultation's opinions made into the document.
type WrittenSuggestions struct {
	Consultation *lianxin.Consultation
	StationName  string
	Generated    time.Time // in the stations' time zone
	Deadline     time.Time // in the stations' time zone
	// Opinions and Residents over the whole consultation; Late of them
	// arrived after the deadline; Points are the distinct points made
	// (opinions less the duplicates merged into others).
	Opinions, Residents, Late, Points int
	Articles                          []ArticleSuggestions
}

// ArticleSuggestions is one article's part: the article (Seq 0: the draft
// as a whole), its opinions grouped into points, and the recommendation.
type ArticleSuggestions struct {
	Article   lianxin.Article
	Opinions  int
	Residents int
	Points    []OpinionPoint
}

// OpinionPoint is an opinion with the duplicates merged into it: the
// representative wording is its own.
type OpinionPoint struct {
	Number  string   // YJ3-012
	Text    string   // the representative wording
	Count   int      // residents who made it: itself and its duplicates
	Others  []string // the duplicates' numbers
	Outcome string   // 采纳 / 部分采纳 / 未采纳 / ""
	Reason  string
	Late    bool
}

// suggestionLabels are the words of the written suggestions.
var suggestionLabels = func() (l struct {
	Sheet         string            `yaml:"sheet"`
	DetailSheet   string            `yaml:"detail_sheet"`
	Title         string            `yaml:"title"`
	Subtitle      string            `yaml:"subtitle"`
	Cols          []string          `yaml:"cols"`
	DetailCols    []string          `yaml:"detail_cols"`
	Whole         string            `yaml:"whole"`
	Outcomes      map[string]string `yaml:"outcomes"`
	Yes           string            `yaml:"yes"`
	NoRecommended string            `yaml:"no_recommendation"`
}) {
	b, err := templateFS.ReadFile("templates/consultation_sheet.yaml")
	if err == nil {
		err = yaml.Unmarshal(b, &l)
	}
	if err != nil {
		panic(fmt.Sprintf("report: templates/consultation_sheet.yaml: %v", err)) // embedded: a build defect
	}
	return l
}()

// WrittenSuggestions makes a consultation's opinions into the document.
func (r *Reporter) WrittenSuggestions(c *lianxin.Consultation, ops []lianxin.Opinion) *WrittenSuggestions {
	loc := r.cfg.Location
	ws := &WrittenSuggestions{Consultation: c, StationName: r.unitName(c.StationID), Generated: r.now().In(loc), Deadline: c.Deadline.In(loc)}
	if c.StationID == "" {
		ws.StationName = r.txt("district_office")
	}
	parts := []ArticleSuggestions{{Article: lianxin.Article{Seq: 0, Label: suggestionLabels.Whole}}}
	index := map[int]int{0: 0}
	for _, a := range c.Articles {
		index[a.Seq] = len(parts)
		parts = append(parts, ArticleSuggestions{Article: a})
	}
	all := map[string]bool{}
	who := make([]map[string]bool, len(parts))
	type at struct{ part, point int }
	points := map[int64]at{}
	for _, o := range ops {
		i, ok := index[o.ArticleSeq]
		if !ok {
			i = 0
		}
		ws.Opinions++
		if o.Late {
			ws.Late++
		}
		key := contributor(o)
		all[key] = true
		if who[i] == nil {
			who[i] = map[string]bool{}
		}
		who[i][key] = true
		parts[i].Opinions++
		if o.MergedInto != 0 {
			continue
		}
		points[o.ID] = at{i, len(parts[i].Points)}
		parts[i].Points = append(parts[i].Points, OpinionPoint{Number: lianxin.OpinionNumber(c.ID, o.N), Text: o.Text, Count: 1,
			Outcome: suggestionLabels.Outcomes[o.Outcome], Reason: o.Reason, Late: o.Late})
	}
	for _, o := range ops {
		if p, ok := points[o.MergedInto]; ok && o.MergedInto != 0 {
			pt := &parts[p.part].Points[p.point]
			pt.Count++
			pt.Others = append(pt.Others, lianxin.OpinionNumber(c.ID, o.N))
		}
	}
	for i := range parts {
		parts[i].Residents = len(who[i])
		ws.Points += len(parts[i].Points)
		if parts[i].Opinions > 0 || parts[i].Article.Recommendation != "" {
			ws.Articles = append(ws.Articles, parts[i])
		}
	}
	// The whole draft's opinions come last, after the articles.
	if len(ws.Articles) > 0 && ws.Articles[0].Article.Seq == 0 {
		ws.Articles = append(ws.Articles[1:], ws.Articles[0])
	}
	ws.Residents = len(all)
	return ws
}

// contributor identifies who made an opinion, to count residents once:
// their WeChat, else the name and phone staff took down, else the opinion.
func contributor(o lianxin.Opinion) string {
	switch {
	case o.OpenID != "":
		return "w:" + o.OpenID
	case o.Name != "" || o.Phone != "":
		return "n:" + o.Name + "/" + o.Phone
	}
	return fmt.Sprintf("o:%d", o.ID)
}

// WriteSuggestionsHTML writes the written suggestions as a printable document.
func (r *Reporter) WriteSuggestionsHTML(w io.Writer, ws *WrittenSuggestions) error {
	return r.render(w, "consultation.html", map[string]any{"W": ws, "L": suggestionLabels})
}

// WriteSuggestionsXLSX writes the written suggestions as an Excel workbook:
// a sheet of points by article, and a sheet of every opinion.
func (r *Reporter) WriteSuggestionsXLSX(w io.Writer, ws *WrittenSuggestions, ops []lianxin.Opinion) error {
	l := suggestionLabels
	x := excelize.NewFile()
	defer x.Close()
	s := l.Sheet
	if err := x.SetSheetName("Sheet1", s); err != nil {
		return err
	}
	title, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true, Size: 14}, Alignment: &excelize.Alignment{Horizontal: "center"}})
	if err != nil {
		return err
	}
	head, err := x.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}, Fill: excelize.Fill{Type: "pattern", Color: []string{"EEF1F4"}, Pattern: 1},
		Alignment: &excelize.Alignment{Horizontal: "center", Vertical: "center", WrapText: true},
		Border:    borders()})
	if err != nil {
		return err
	}
	wrap, err := x.NewStyle(&excelize.Style{Alignment: &excelize.Alignment{Vertical: "top", WrapText: true}, Border: borders()})
	if err != nil {
		return err
	}
	c := ws.Consultation
	last, _ := excelize.ColumnNumberToName(len(l.Cols))
	if err := x.MergeCell(s, "A1", last+"1"); err != nil {
		return err
	}
	if err := x.SetCellValue(s, "A1", fmt.Sprintf(l.Title, c.Title)); err != nil {
		return err
	}
	if err := x.SetCellStyle(s, "A1", "A1", title); err != nil {
		return err
	}
	if err := x.MergeCell(s, "A2", last+"2"); err != nil {
		return err
	}
	if err := x.SetCellValue(s, "A2", fmt.Sprintf(l.Subtitle, ws.StationName, ws.Deadline.Format("2006-01-02"), ws.Opinions, ws.Residents, ws.Points, ws.Late)); err != nil {
		return err
	}
	if err := x.SetSheetRow(s, "A3", &l.Cols); err != nil {
		return err
	}
	if err := x.SetCellStyle(s, "A3", last+"3", head); err != nil {
		return err
	}
	row := 4
	for _, a := range ws.Articles {
		points := a.Points
		if len(points) == 0 {
			points = []OpinionPoint{{}}
		}
		for _, p := range points {
			others := strings.Join(p.Others, "、")
			vals := []any{a.Article.Label, clipRunes(oneLineText(a.Article.Text), 200), a.Opinions, a.Residents, p.Text, p.Count, others,
				p.Outcome, p.Reason, a.Article.Recommendation}
			cell, _ := excelize.CoordinatesToCellName(1, row)
			if err := x.SetSheetRow(s, cell, &vals); err != nil {
				return err
			}
			end, _ := excelize.CoordinatesToCellName(len(l.Cols), row)
			if err := x.SetCellStyle(s, cell, end, wrap); err != nil {
				return err
			}
			row++
		}
	}
	widths := []float64{10, 36, 8, 8, 44, 8, 14, 10, 24, 36}
	for i, wd := range widths {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := x.SetColWidth(s, col, col, wd); err != nil {
			return err
		}
	}
	if err := x.SetPanes(s, &excelize.Panes{Freeze: true, YSplit: 3, TopLeftCell: "A4", ActivePane: "bottomLeft"}); err != nil {
		return err
	}
	// Every opinion, for whoever checks the counts.
	d := l.DetailSheet
	if _, err := x.NewSheet(d); err != nil {
		return err
	}
	if err := x.SetSheetRow(d, "A1", &l.DetailCols); err != nil {
		return err
	}
	dlast, _ := excelize.ColumnNumberToName(len(l.DetailCols))
	if err := x.SetCellStyle(d, "A1", dlast+"1", head); err != nil {
		return err
	}
	labels := map[int]string{0: l.Whole}
	for _, a := range c.Articles {
		labels[a.Seq] = a.Label
	}
	byID := map[int64]lianxin.Opinion{}
	for _, o := range ops {
		byID[o.ID] = o
	}
	for i, o := range ops {
		merged, outcome, reason := "", l.Outcomes[o.Outcome], o.Reason
		if o.MergedInto != 0 {
			p := byID[o.MergedInto]
			merged = lianxin.OpinionNumber(c.ID, p.N)
			outcome, reason = l.Outcomes[p.Outcome], p.Reason
		}
		late := ""
		if o.Late {
			late = l.Yes
		}
		vals := []any{lianxin.OpinionNumber(c.ID, o.N), labels[o.ArticleSeq], o.Text, o.CreatedAt.In(r.cfg.Location).Format("2006-01-02 15:04"),
			late, merged, outcome, reason, r.deputyName(o.DeputyID)}
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		if err := x.SetSheetRow(d, cell, &vals); err != nil {
			return err
		}
	}
	for i, wd := range []float64{12, 10, 60, 17, 6, 12, 10, 24, 10} {
		col, _ := excelize.ColumnNumberToName(i + 1)
		if err := x.SetColWidth(d, col, col, wd); err != nil {
			return err
		}
	}
	_, err = x.WriteTo(w)
	return err
}

func borders() []excelize.Border {
	return []excelize.Border{{Type: "left", Color: "888888", Style: 1}, {Type: "right", Color: "888888", Style: 1},
		{Type: "top", Color: "888888", Style: 1}, {Type: "bottom", Color: "888888", Style: 1}}
}

func oneLineText(s string) string { return strings.Join(strings.Fields(s), " ") }

func clipRunes(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	return string(rs[:n]) + "…"
}
