package clitable

import (
	"strings"
	"testing"

	"github.com/mattn/go-runewidth"
)

// A clerk reading `lianxin cases list` in a terminal sees each column start
// at the same place on every row, Chinese or not.
func TestTableAlignsChineseColumns(t *testing.T) {
	var tb Table
	tb.Row("NUMBER", "STATION", "ASSIGNEE", "DESCRIPTION")
	tb.Row("KQ20261127-0001", "平潭街代表联络站", "王建国", "暖气不热")
	tb.Row("KQ20261127-0002", "-", "-", "路灯不亮")
	var b strings.Builder
	if err := tb.Write(&b); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	col := func(line, cell string) int {
		i := strings.Index(line, cell)
		if i < 0 {
			t.Fatalf("%q not in %q", cell, line)
		}
		return runewidth.StringWidth(line[:i])
	}
	if a, b := col(lines[0], "ASSIGNEE"), col(lines[1], "王建国"); a != b {
		t.Errorf("ASSIGNEE column starts at cell %d on the header, %d on a Chinese row\n%s", a, b, strings.Join(lines, "\n"))
	}
	if a, b := col(lines[0], "DESCRIPTION"), col(lines[1], "暖气不热"); a != b {
		t.Errorf("DESCRIPTION at %d vs %d\n%s", a, b, strings.Join(lines, "\n"))
	}
	if a, b := col(lines[0], "DESCRIPTION"), col(lines[2], "路灯不亮"); a != b {
		t.Errorf("DESCRIPTION at %d vs %d\n%s", a, b, strings.Join(lines, "\n"))
	}
	if strings.HasSuffix(lines[1], " ") {
		t.Error("trailing spaces after the last column")
	}
}
