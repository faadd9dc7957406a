package store

import (
	"context"
	"strings"
	"unicode"
)

// SearchText is what the search index keeps for a case's text (migration
// 016): every run of letters and digits cut into overlapping two-character
// pieces, plus the run's last character alone, separated by spaces. The
// text is folded first (full-width to half-width, lower case), as queries are.
func SearchText(s string) string {
	var b strings.Builder
	for _, run := range searchRuns(s) {
		for i := 0; i+1 < len(run); i++ {
			b.WriteString(string(run[i : i+2]))
			b.WriteByte(' ')
		}
		b.WriteString(string(run[len(run)-1]))
		b.WriteByte(' ')
	}
	return strings.TrimSpace(b.String())
}

// searchQuery turns what staff typed into an FTS4 MATCH expression: every
// word must appear, a word of two or more characters as the phrase of its
// bigrams, a single character as a prefix. ok is false when nothing
// searchable is left.
func searchQuery(s string) (string, bool) {
	var parts []string
	for _, run := range searchRuns(s) {
		if len(run) == 1 {
			parts = append(parts, string(run)+"*")
			continue
		}
		grams := make([]string, 0, len(run)-1)
		for i := 0; i+1 < len(run); i++ {
			grams = append(grams, string(run[i:i+2]))
		}
		parts = append(parts, `"`+strings.Join(grams, " ")+`"`)
	}
	return strings.Join(parts, " "), len(parts) > 0
}

// searchRuns folds s and splits it into runs of letters and digits.
func searchRuns(s string) [][]rune {
	var runs [][]rune
	var cur []rune
	for _, r := range s {
		if r >= 0xFF01 && r <= 0xFF5E {
			r -= 0xFEE0 // full-width ASCII
		}
		r = unicode.ToLower(r)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			cur = append(cur, r)
			continue
		}
		if len(cur) > 0 {
			runs = append(runs, cur)
			cur = nil
		}
	}
	if len(cur) > 0 {
		runs = append(runs, cur)
	}
	return runs
}

// indexCase writes a case's searchable text in the caller's transaction.
func indexCase(tx *Tx, id int64, description, address, label string) error {
	return tx.d.indexCase(tx, id, description, address, label)
}

// backfillSearch indexes the cases registered before the search index
// existed (or written around it), a thousand per transaction.
func (db *DB) backfillSearch(ctx context.Context) error {
	for {
		var rows []struct {
			ID          int64  `db:"id"`
			Description string `db:"description"`
			Address     string `db:"address"`
			Label       string `db:"loc_label"`
		}
		if err := db.wdb.SelectContext(ctx, &rows, `SELECT id, description, address, loc_label FROM cases
			WHERE id > COALESCE((SELECT MAX(docid) FROM case_search), 0) ORDER BY id LIMIT 1000`); err != nil {
			return err
		}
		if len(rows) == 0 {
			return nil
		}
		stx, err := db.wdb.BeginTxx(ctx, nil)
		if err != nil {
			return err
		}
		tx := &Tx{stx, db.d}
		for _, r := range rows {
			if err := indexCase(tx, r.ID, r.Description, r.Address, r.Label); err != nil {
				tx.Rollback()
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
}
