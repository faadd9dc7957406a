// Package clitable prints the operator tools' tables (lianxin, lianxin-dev).
package clitable

import (
	"bufio"
	"io"
	"strings"

	"github.com/mattn/go-runewidth"
)

// Table prints aligned columns measured in terminal cells, so rows with
// Chinese names (two cells a character) line up with the rest; text/tabwriter
// counts bytes and leaves such columns ragged.
type Table struct {
	rows [][]string
}

func (t *Table) Row(cells ...string) { t.rows = append(t.rows, cells) }

// Write prints the rows, two spaces between columns, the last column unpadded.
func (t *Table) Write(w io.Writer) error {
	var widths []int
	for _, r := range t.rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], runewidth.StringWidth(c))
		}
	}
	bw := bufio.NewWriter(w)
	for _, r := range t.rows {
		for i, c := range r {
			bw.WriteString(c)
			if i < len(r)-1 {
				bw.WriteString(strings.Repeat(" ", widths[i]-runewidth.StringWidth(c)+2))
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}
