package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// Moving a district's register from SQLite to PostgreSQL (lianxin
// migrate-store). Every table is copied whatever it is (the list is read
// from both databases, so a table a later migration adds needs no code
// here), in one PostgreSQL transaction, then counted and checksummed on both
// sides. The search index is rebuilt rather than copied (SQLite keeps it in
// FTS4's own tables).

// TableCopy is one table as copied: its rows on each side and the checksum
// of each side's rows (canonical values, in key order).
type TableCopy struct {
	Table            string
	SourceRows, Rows int64
	SourceSum, Sum   string
	Matches          bool
	CopyDuration     time.Duration
}

// notCopied are tables that are not the register's data: the migrations
// each engine records for itself, and the search index (rebuilt).
func notCopied(table string) bool {
	return table == "migrations" || strings.HasPrefix(table, "case_search")
}

// CopyTo copies this SQLite database into the PostgreSQL database to, which
// must be empty (no rows in any table but the instance row its migrations
// made) unless force, which empties it first. It returns each table with
// its counts and checksums; an error when any table differs after the copy,
// or when a table or column exists on one side only (a migration not
// ported). progress, when set, is told each table as it is copied.
func (db *DB) CopyTo(ctx context.Context, to *DB, force bool, progress func(table string, rows int64)) (_ []TableCopy, err error) {
	defer wrap(&err, "CopyTo(%s)", to.path)
	if db.d.pg || !to.d.pg {
		return nil, errors.New("copying goes from a SQLite database to a PostgreSQL one")
	}
	var liteTables []string
	if err := db.read.SelectContext(ctx, &liteTables, `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`); err != nil {
		return nil, err
	}
	var pgTables []string
	if err := to.read.SelectContext(ctx, &pgTables, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`); err != nil {
		return nil, err
	}
	liteTables = slices.DeleteFunc(liteTables, notCopied)
	pgTables = slices.DeleteFunc(pgTables, notCopied)
	var missing []string
	for _, t := range liteTables {
		if !slices.Contains(pgTables, t) {
			missing = append(missing, t+" (only in SQLite)")
		}
	}
	for _, t := range pgTables {
		if !slices.Contains(liteTables, t) {
			missing = append(missing, t+" (only in PostgreSQL)")
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("the two schemas differ: %s; every SQLite migration needs its PostgreSQL port (store/migrations/postgres)", strings.Join(missing, ", "))
	}
	tables, err := to.copyOrder(ctx, pgTables)
	if err != nil {
		return nil, err
	}
	cols := map[string][]pgColumn{}
	for _, t := range tables {
		pc, err := to.pgColumns(ctx, t)
		if err != nil {
			return nil, err
		}
		var lc []string
		if err := db.read.SelectContext(ctx, &lc, `SELECT name FROM pragma_table_info(?) ORDER BY cid`, t); err != nil {
			return nil, err
		}
		for _, c := range lc {
			if !slices.ContainsFunc(pc, func(p pgColumn) bool { return p.Name == c }) {
				return nil, fmt.Errorf("table %s: column %s is only in SQLite; its PostgreSQL migration is missing it", t, c)
			}
		}
		for _, p := range pc {
			if !slices.Contains(lc, p.Name) {
				return nil, fmt.Errorf("table %s: column %s is only in PostgreSQL; its SQLite migration is missing it", t, p.Name)
			}
		}
		cols[t] = pc
	}

	// Empty, or emptied with force. The instance row is the migrations'
	// own, replaced by the source's: conversations in Redis are kept under
	// the database's instance id, so they carry over.
	var full []string
	for _, t := range tables {
		if t == "instance" {
			continue
		}
		var n int64
		if err := to.read.GetContext(ctx, &n, `SELECT COUNT(*) FROM `+pgx.Identifier{t}.Sanitize()); err != nil {
			return nil, err
		}
		if n > 0 {
			full = append(full, fmt.Sprintf("%s (%d rows)", t, n))
		}
	}
	if len(full) > 0 && !force {
		return nil, fmt.Errorf("the PostgreSQL database is not empty: %s; --force empties it first", strings.Join(full, ", "))
	}

	conn, err := to.pg.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	out := make([]TableCopy, 0, len(tables))
	err = conn.Raw(func(dc any) error {
		pc := dc.(*stdlib.Conn).Conn()
		tx, err := pc.Begin(ctx)
		if err != nil {
			return err
		}
		defer tx.Rollback(context.WithoutCancel(ctx))
		quoted := make([]string, 0, len(tables)+1)
		for _, t := range append(tables, "case_search") {
			quoted = append(quoted, pgx.Identifier{t}.Sanitize())
		}
		if _, err := tx.Exec(ctx, `TRUNCATE `+strings.Join(quoted, ", ")); err != nil {
			return fmt.Errorf("emptying the target: %w", err)
		}
		// The triggers that keep counts, history and wake-ups would write
		// rows of their own on top of the copied ones: off for the copy.
		for _, t := range tables {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+pgx.Identifier{t}.Sanitize()+` DISABLE TRIGGER USER`); err != nil {
				return err
			}
		}
		for _, t := range tables {
			start := time.Now()
			n, err := db.copyTable(ctx, tx, t, cols[t])
			if err != nil {
				return fmt.Errorf("table %s: %w", t, err)
			}
			out = append(out, TableCopy{Table: t, CopyDuration: time.Since(start)})
			if progress != nil {
				progress(t, n)
			}
			for _, c := range cols[t] {
				if c.Identity {
					if _, err := tx.Exec(ctx, `SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(`+
						pgx.Identifier{c.Name}.Sanitize()+`) FROM `+pgx.Identifier{t}.Sanitize()+`), 0) + 1, false)`, t, c.Name); err != nil {
						return fmt.Errorf("table %s: identity: %w", t, err)
					}
				}
			}
		}
		for _, t := range tables {
			if _, err := tx.Exec(ctx, `ALTER TABLE `+pgx.Identifier{t}.Sanitize()+` ENABLE TRIGGER USER`); err != nil {
				return err
			}
		}
		if err := rebuildSearch(ctx, tx); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
		return tx.Commit(ctx)
	})
	if err != nil {
		return nil, err
	}
	ok := true
	for i := range out {
		c := &out[i]
		if c.SourceRows, c.SourceSum, err = db.tableChecksum(ctx, c.Table, cols[c.Table]); err != nil {
			return nil, err
		}
		if c.Rows, c.Sum, err = to.tableChecksum(ctx, c.Table, cols[c.Table]); err != nil {
			return nil, err
		}
		c.Matches = c.SourceRows == c.Rows && c.SourceSum == c.Sum
		ok = ok && c.Matches
	}
	if !ok {
		return out, errors.New("the copy differs from the source (see the tables marked)")
	}
	return out, nil
}

type pgColumn struct {
	Name     string `db:"column_name"`
	Type     string `db:"data_type"`
	Identity bool   `db:"is_identity"`
}

func columnNames(cs []pgColumn) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Name
	}
	return out
}

// pgColumns are a PostgreSQL table's columns in their order, with their
// types and whether they are identity columns.
func (db *DB) pgColumns(ctx context.Context, table string) ([]pgColumn, error) {
	var cs []pgColumn
	err := db.read.SelectContext(ctx, &cs, `SELECT column_name, data_type, is_identity = 'YES' AS is_identity
		FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position`, table)
	return cs, err
}

// copyOrder sorts the tables so that a table comes after those its foreign
// keys point at.
func (db *DB) copyOrder(ctx context.Context, tables []string) ([]string, error) {
	var fks []struct {
		Child  string `db:"child"`
		Parent string `db:"parent"`
	}
	if err := db.read.SelectContext(ctx, &fks, `SELECT cl.relname AS child, pcl.relname AS parent FROM pg_constraint c
		JOIN pg_class cl ON cl.oid = c.conrelid JOIN pg_class pcl ON pcl.oid = c.confrelid
		JOIN pg_namespace n ON n.oid = cl.relnamespace
		WHERE c.contype = 'f' AND n.nspname = current_schema()`); err != nil {
		return nil, err
	}
	parents := map[string][]string{}
	for _, f := range fks {
		if f.Child != f.Parent {
			parents[f.Child] = append(parents[f.Child], f.Parent)
		}
	}
	sorted := append([]string(nil), tables...)
	sort.Strings(sorted)
	var out []string
	done := map[string]bool{}
	var visit func(t string, depth int) error
	visit = func(t string, depth int) error {
		if done[t] {
			return nil
		}
		if depth > len(tables) {
			return fmt.Errorf("foreign keys form a cycle through %s", t)
		}
		for _, p := range parents[t] {
			if slices.Contains(tables, p) {
				if err := visit(p, depth+1); err != nil {
					return err
				}
			}
		}
		done[t] = true
		out = append(out, t)
		return nil
	}
	for _, t := range sorted {
		if err := visit(t, 0); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// copyTable streams a SQLite table into PostgreSQL with COPY.
func (db *DB) copyTable(ctx context.Context, tx pgx.Tx, table string, cols []pgColumn) (int64, error) {
	names := columnNames(cols)
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = `"` + n + `"`
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM "`+table+`"`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	src := &liteRows{rows: rows, cols: cols, vals: make([]any, len(cols))}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{table}, names, src)
	if err == nil {
		err = src.err
	}
	return n, err
}

// liteRows feeds COPY from SQLite's rows, each value converted to what its
// PostgreSQL column takes.
type liteRows struct {
	rows *sql.Rows
	cols []pgColumn
	vals []any
	err  error
}

func (r *liteRows) Next() bool {
	if !r.rows.Next() {
		r.err = r.rows.Err()
		return false
	}
	ptrs := make([]any, len(r.vals))
	for i := range r.vals {
		ptrs[i] = &r.vals[i]
	}
	if r.err = r.rows.Scan(ptrs...); r.err != nil {
		return false
	}
	for i, c := range r.cols {
		v, err := toPG(r.vals[i], c.Type)
		if err != nil {
			r.err = fmt.Errorf("column %s: %w", c.Name, err)
			return false
		}
		r.vals[i] = v
	}
	return true
}

func (r *liteRows) Values() ([]any, error) { return r.vals, r.err }
func (r *liteRows) Err() error             { return r.err }

// toPG converts a value SQLite's driver read into what the PostgreSQL
// column of that type takes: 0/1 flags to booleans, text times to times,
// times to the microsecond PostgreSQL keeps.
func toPG(v any, pgType string) (any, error) {
	if v == nil {
		return nil, nil
	}
	if b, ok := v.([]byte); ok {
		v = string(b)
	}
	switch pgType {
	case "boolean":
		switch x := v.(type) {
		case int64:
			return x != 0, nil
		case bool:
			return x, nil
		case string:
			return strconv.ParseBool(x)
		}
	case "timestamp with time zone":
		switch x := v.(type) {
		case time.Time:
			return x.UTC().Round(time.Microsecond), nil
		case string:
			t, err := parseLiteTime(x)
			return t, err
		}
	case "text":
		switch x := v.(type) {
		case string:
			return x, nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		}
	default:
		return v, nil
	}
	return nil, fmt.Errorf("cannot store %T %v as %s", v, v, pgType)
}

// parseLiteTime reads a time SQLite's driver kept as text.
func parseLiteTime(s string) (time.Time, error) {
	for _, f := range []string{tsFormat, "2006-01-02 15:04:05.999999999Z07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(f, s); err == nil {
			return t.UTC().Round(time.Microsecond), nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time", s)
}

// tableChecksum counts a table's rows and sums the SHA-256 of each row's
// canonical values (modulo 2^256): the same rows give the same sum on
// either engine, in whatever order each reads them (their collations sort
// text differently).
func (db *DB) tableChecksum(ctx context.Context, table string, cols []pgColumn) (int64, string, error) {
	names := columnNames(cols)
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = `"` + n + `"`
	}
	rows, err := db.read.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM "`+table+`"`)
	if err != nil {
		return 0, "", err
	}
	defer rows.Close()
	var sum [4]uint64 // little-endian words
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return 0, "", err
		}
		h := sha256.New()
		for i, c := range cols {
			s, err := canonical(vals[i], c.Type)
			if err != nil {
				return 0, "", fmt.Errorf("%s.%s: %w", table, c.Name, err)
			}
			h.Write([]byte(s))
			h.Write([]byte{0x1f})
		}
		d := h.Sum(nil)
		var carry uint64
		for w := 0; w < 4; w++ {
			sum[w], carry = bits.Add64(sum[w], binary.LittleEndian.Uint64(d[8*w:]), carry)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return 0, "", err
	}
	var out [32]byte
	for w := 0; w < 4; w++ {
		binary.BigEndian.PutUint64(out[8*(3-w):], sum[w])
	}
	return n, hex.EncodeToString(out[:]), nil
}

// canonical is a value as the checksum sees it, whichever engine read it.
func canonical(v any, pgType string) (string, error) {
	if v == nil {
		return "\x00", nil
	}
	v, err := toPG(v, pgType)
	if err != nil {
		return "", err
	}
	switch x := v.(type) {
	case bool:
		if x {
			return "t", nil
		}
		return "f", nil
	case time.Time:
		return x.UTC().Round(time.Microsecond).Format(time.RFC3339Nano), nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int32:
		return strconv.FormatInt(int64(x), 10), nil
	case float64:
		if x == math.Trunc(x) && math.Abs(x) < 1e15 {
			return strconv.FormatInt(int64(x), 10), nil
		}
		return strconv.FormatFloat(x, 'g', -1, 64), nil
	case string:
		return x, nil
	}
	return fmt.Sprint(v), nil
}

// rebuildSearch fills PostgreSQL's search index from the copied cases.
func rebuildSearch(ctx context.Context, tx pgx.Tx) error {
	rows, err := tx.Query(ctx, `SELECT id, description, address, loc_label FROM cases ORDER BY id`)
	if err != nil {
		return err
	}
	var docs [][]any
	for rows.Next() {
		var id int64
		var d, a, l string
		if err := rows.Scan(&id, &d, &a, &l); err != nil {
			rows.Close()
			return err
		}
		body := SearchText(d + " " + a + " " + l)
		docs = append(docs, []any{id, body, strings.Fields(body)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	_, err = tx.CopyFrom(ctx, pgx.Identifier{"case_search"}, []string{"docid", "body", "grams"}, pgx.CopyFromRows(docs))
	return err
}
