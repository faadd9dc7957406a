package lianxin

import (
	"testing"
	"time"
)

func TestCaseNumberAsStaffTypeIt(t *testing.T) {
	loc := time.FixedZone("CST", 8*3600)
	n := CaseNumbering{Prefix: "KQ", Location: loc}
	// 16:30 UTC is half past midnight in Yangquan: the next day there.
	now := time.Date(2026, 11, 27, 16, 30, 0, 0, time.UTC)
	for ref, want := range map[string]string{
		"7":               "KQ20261128-0007",
		"0007":            "KQ20261128-0007",
		"20261127-7":      "KQ20261127-0007",
		"kq20261127-0012": "KQ20261127-0012",
		"KQ20261127-0012": "KQ20261127-0012",
		" 12 ":            "KQ20261128-0012",
		"0":               "",
		"seven":           "",
		"2026-7":          "",
		"20261327-1":      "",
		"":                "",
	} {
		got, ok := n.Number(ref, now)
		if got != want || ok != (want != "") {
			t.Errorf("Number(%q) = %q, %v; want %q", ref, got, ok, want)
		}
	}
}
