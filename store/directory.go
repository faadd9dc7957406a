package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/lianxin/lianxin"
)

// importRow is one record of a directory table, as stored.
type importRow struct {
	ID     string `db:"id"`
	Name   string `db:"name"`
	Data   string `db:"data"`
	Active bool   `db:"active"`
}

// ImportDirectory makes the stored directory equal to dir and cats, in one
// transaction, and reports what changed. Importing the same data again
// changes nothing. Records missing from the new data are deactivated, not
// deleted (cases still refer to them); deputies keep their WeChat binding.
// With dryRun it only reports what an import would change. Audit entries
// (an edit in the console) are written with the change.
func (db *DB) ImportDirectory(ctx context.Context, dir *lianxin.Directory, cats lianxin.Categories, dryRun bool, audits ...lianxin.AuditEntry) (_ []lianxin.DirectoryChange, err error) {
	defer wrap(&err, "ImportDirectory")
	now := db.now()
	var changes []lianxin.DirectoryChange
	err = db.Tx(ctx, func(tx *Tx) (err error) {
		if dryRun {
			defer func() {
				if err == nil {
					err = errDryRun
				}
			}()
		}
		changes = nil
		type rec struct {
			id, name string
			data     any
			extra    []any // values for the extra columns
		}
		tables := []struct {
			kind, table, key string
			extraCols        []string
			recs             []rec
		}{
			{kind: "station", table: "stations", key: "id", extraCols: []string{"kind", "parent"}},
			{kind: "deputy", table: "deputies", key: "id", extraCols: []string{"station_id", "head"}},
			{kind: "department", table: "departments", key: "id"},
			{kind: "category", table: "categories", key: "key"},
			{kind: "grid", table: "grids", key: "id", extraCols: []string{"station_id"}},
		}
		for _, s := range dir.Stations {
			tables[0].recs = append(tables[0].recs, rec{s.ID, s.Name, s, []any{s.Kind, s.Parent}})
		}
		for _, d := range dir.Deputies {
			tables[1].recs = append(tables[1].recs, rec{d.ID, d.Name, d, []any{d.StationID, d.Head}})
		}
		for _, d := range dir.Departments {
			tables[2].recs = append(tables[2].recs, rec{d.ID, d.Name, d, nil})
		}
		for _, c := range cats {
			tables[3].recs = append(tables[3].recs, rec{c.Key, c.Name, c, nil})
		}
		for _, g := range dir.Grids {
			tables[4].recs = append(tables[4].recs, rec{g.ID, g.Name, g, []any{g.StationID}})
		}
		for _, t := range tables {
			var existing []importRow
			if err := tx.Select(&existing, fmt.Sprintf(`SELECT %s AS id, name, data, active FROM %s`, t.key, t.table)); err != nil {
				return err
			}
			old := map[string]importRow{}
			for _, r := range existing {
				old[r.ID] = r
			}
			seen := map[string]bool{}
			for pos, r := range t.recs {
				seen[r.id] = true
				b, err := json.Marshal(r.data)
				if err != nil {
					return err
				}
				data := string(b)
				prev, had := old[r.id]
				switch {
				case !had:
					changes = append(changes, lianxin.DirectoryChange{Kind: t.kind, ID: r.id, Name: r.name, Action: "added"})
				case !prev.Active:
					changes = append(changes, lianxin.DirectoryChange{Kind: t.kind, ID: r.id, Name: r.name, Action: "restored"})
				case prev.Data != data:
					changes = append(changes, lianxin.DirectoryChange{Kind: t.kind, ID: r.id, Name: r.name, Action: "changed", Fields: changedFields(prev.Data, data)})
				}
				cols := append([]string{t.key, "name", "data", "position", "active", "updated_at"}, t.extraCols...)
				args := append([]any{r.id, r.name, data, pos, true, now}, r.extra...)
				q := fmt.Sprintf(`INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO UPDATE SET name = excluded.name, data = excluded.data,
					position = excluded.position, active = TRUE, updated_at = CASE WHEN %s.data = excluded.data AND %s.active = TRUE THEN %s.updated_at ELSE excluded.updated_at END`,
					t.table, join(cols), placeholders(len(cols)), t.key, t.table, t.table, t.table)
				for _, c := range t.extraCols {
					q += fmt.Sprintf(", %s = excluded.%s", c, c)
				}
				if _, err := tx.Exec(q, args...); err != nil {
					return fmt.Errorf("%s %s: %w", t.kind, r.id, err)
				}
			}
			for id, r := range old {
				if !seen[id] && r.Active {
					changes = append(changes, lianxin.DirectoryChange{Kind: t.kind, ID: id, Name: r.Name, Action: "removed"})
					if _, err := tx.Exec(fmt.Sprintf(`UPDATE %s SET active = FALSE, updated_at = ? WHERE %s = ?`, t.table, t.key), now, id); err != nil {
						return err
					}
				}
			}
		}
		if change, err := importDistrict(tx, dir.District, now); err != nil {
			return err
		} else if change != nil {
			changes = append(changes, *change)
		}
		sort.SliceStable(changes, func(i, j int) bool {
			if changes[i].Kind != changes[j].Kind {
				return changes[i].Kind < changes[j].Kind
			}
			return changes[i].ID < changes[j].ID
		})
		var version int64
		err = tx.Get(&version, `SELECT version FROM directory_meta WHERE id = 1`)
		if errors.Is(err, sql.ErrNoRows) {
			_, err = tx.Exec(`INSERT INTO directory_meta (id, version, imported_at) VALUES (1, 1, ?)`, now)
			return err
		} else if err != nil {
			return err
		}
		if len(changes) > 0 {
			if _, err = tx.Exec(`UPDATE directory_meta SET version = version + 1, imported_at = ? WHERE id = 1`, now); err != nil {
				return err
			}
			for _, a := range audits {
				if err := audit(tx, a, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return changes, err
}

// importDistrict stores the district office's settings and says whether
// they changed.
func importDistrict(tx *Tx, d lianxin.District, now time.Time) (*lianxin.DirectoryChange, error) {
	b, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	var old string
	err = tx.Get(&old, `SELECT data FROM district WHERE id = 1`)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if d.Name == "" && d.Hours == "" && d.Staff == nil {
			return nil, nil // nothing set, nothing to say
		}
	case err != nil:
		return nil, err
	case old == string(b):
		return nil, nil
	}
	if _, err := tx.Exec(`INSERT INTO district (id, data, updated_at) VALUES (1, ?, ?)
		ON CONFLICT (id) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`, string(b), now); err != nil {
		return nil, err
	}
	c := &lianxin.DirectoryChange{Kind: "district", ID: "district", Name: d.Name, Action: "changed", Fields: changedFields(old, string(b))}
	if old == "" {
		c.Action, c.Fields = "added", nil
	}
	return c, nil
}

// errDryRun rolls a dry-run import back (to its savepoint) after it has
// computed the changes.
var errDryRun = errors.New("dry run")

func join(cols []string) string {
	out := ""
	for i, c := range cols {
		if i > 0 {
			out += ", "
		}
		out += c
	}
	return out
}

func placeholders(n int) string {
	out := ""
	for i := 0; i < n; i++ {
		if i > 0 {
			out += ", "
		}
		out += "?"
	}
	return out
}

// changedFields names the top-level fields whose JSON differs.
func changedFields(before, after string) []string {
	var a, b map[string]json.RawMessage
	if json.Unmarshal([]byte(before), &a) != nil || json.Unmarshal([]byte(after), &b) != nil {
		return nil
	}
	var out []string
	for k, v := range b {
		if string(a[k]) != string(v) {
			out = append(out, k)
		}
	}
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// DirectoryVersion is the number of imports that changed something (0: never imported).
func (db *DB) DirectoryVersion(ctx context.Context) (_ int64, err error) {
	defer wrap(&err, "DirectoryVersion")
	var v int64
	err = db.read.GetContext(ctx, &v, `SELECT version FROM directory_meta WHERE id = 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// LoadDirectory returns the active directory and categories as imported.
func (db *DB) LoadDirectory(ctx context.Context) (_ *lianxin.Directory, _ lianxin.Categories, err error) {
	defer wrap(&err, "LoadDirectory")
	dir := &lianxin.Directory{}
	var cats lianxin.Categories
	load := func(table string, each func(data []byte) error) error {
		var rows []string
		query := fmt.Sprintf(`SELECT data FROM %s WHERE active = TRUE ORDER BY position`, table)
		if table == "district" {
			query = `SELECT data FROM district`
		}
		if err := db.read.SelectContext(ctx, &rows, query); err != nil {
			return err
		}
		for _, r := range rows {
			if err := each([]byte(r)); err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
		}
		return nil
	}
	err = errors.Join(
		load("stations", func(b []byte) error {
			var s lianxin.Station
			err := json.Unmarshal(b, &s)
			dir.Stations = append(dir.Stations, s)
			return err
		}),
		load("deputies", func(b []byte) error {
			var d lianxin.Deputy
			err := json.Unmarshal(b, &d)
			dir.Deputies = append(dir.Deputies, d)
			return err
		}),
		load("departments", func(b []byte) error {
			var d lianxin.Department
			err := json.Unmarshal(b, &d)
			dir.Departments = append(dir.Departments, d)
			return err
		}),
		load("categories", func(b []byte) error {
			var c lianxin.Category
			err := json.Unmarshal(b, &c)
			cats = append(cats, c)
			return err
		}),
		load("district", func(b []byte) error { return json.Unmarshal(b, &dir.District) }),
		load("grids", func(b []byte) error {
			var g lianxin.Grid
			err := json.Unmarshal(b, &g)
			dir.Grids = append(dir.Grids, g)
			return err
		}),
	)
	if err == nil {
		// The duty roster kept in the console (reception.go) counts as
		// the directory's reception days.
		dir.Roster, err = rosterAll(ctx, db.read)
	}
	return dir, cats, err
}
