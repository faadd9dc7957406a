package main

import (
	"bufio"
	"io"
	"strings"

	"github.com/mattn/go-runewidth"
)

// table prints aligned columns measured in terminal cells, so rows with
// Chinese names (two cells a character) line up with the rest; text/tabwriter
// counts bytes and leaves such columns ragged.
type table struct {
	rows [][]string
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

// write prints the rows, two spaces between columns, the last column unpadded.
func (t *table) write(w io.Writer) error {
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
