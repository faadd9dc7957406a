package web

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/registertest"
)

// TestListURLRoundTrip: the case list reads back every filter a figure's
// link carries (listURL), as the same units, period, measure and parts.
func TestListURLRoundTrip(t *testing.T) {
	dir, cats, err := registertest.Data()
	if err != nil {
		t.Fatal(err)
	}
	h := &Handler{cfg: Config{Location: registertest.CST, Now: func() time.Time { return registertest.At(11, 5, 12, 0) }}}
	rc := &reqCtx{dir: dir, cats: cats}
	from, to, _ := lianxin.MonthRange("2026-10", registertest.CST)
	for _, f := range []lianxin.CaseFilter{
		{Measure: lianxin.MeasureResolved, From: from, To: to},
		{Measure: lianxin.MeasureOverdue, From: from, To: to, Units: dir.Units("pingtanjie"), Category: "heating"},
		{Measure: lianxin.MeasureHandled, From: from, To: to, Units: []string{"pingtanjie"}, Deputy: lianxin.NoDeputy},
		{Measure: lianxin.MeasureReceived, Units: []string{""}, Source: "来访", Deputy: "d-st-02"},
		{Measure: lianxin.MeasureOpen, From: from, To: from.AddDate(0, 0, 10), Units: []string{"shuitan"}, Typical: true},
	} {
		link := h.listURL(dir, f)
		v, err := url.ParseQuery(strings.TrimPrefix(link, "/console/cases?"))
		if err != nil {
			t.Fatal(err)
		}
		q, err := h.parseCaseQuery(v, rc)
		if err != nil {
			t.Fatalf("%s: %v", link, err)
		}
		src := ""
		if f.Source != "" {
			src = lianxin.SourceOfLabel(f.Source)
		}
		if q.Measure != f.Measure || !q.From.Equal(f.From) || !q.To.Equal(f.To) || !slices.Equal(q.Units, f.Units) ||
			q.Category != f.Category || q.Deputy != f.Deputy || q.Source != src || q.Typical != f.Typical {
			t.Errorf("%+v → %s → %+v", f, link, q)
		}
	}
	if _, err := h.parseCaseQuery(url.Values{"unit": {"nowhere"}}, rc); lianxin.ErrorCode(err) != lianxin.EINVALID {
		t.Errorf("an unknown unit: %v", err)
	}
}

// TestRegisterLabels: the register's audit actions, events and figures
// have their Chinese words.
func TestRegisterLabels(t *testing.T) {
	keys := []string{"verb:" + lianxin.AuditExportUnmasked, "verb:" + lianxin.AuditErase, "verb:" + lianxin.AuditTypical,
		"verb:" + lianxin.AuditRecompute, "verb:" + lianxin.AuditRetention, "event:" + lianxin.EventErased, "event:" + lianxin.EventTypical,
		"flash:erased", "flash:typical_on", "flash:typical_off"}
	for _, m := range lianxin.Measures {
		keys = append(keys, "measure:"+string(m))
	}
	for _, k := range keys {
		if labels[k] == "" {
			t.Errorf("no label %s", k)
		}
	}
}
