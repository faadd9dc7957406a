package store

import (
	"context"
	"database/sql"
	"strings"

	"github.com/jmoiron/sqlx"
)

// dialect is everything that differs between SQLite and PostgreSQL in the
// SQL the store writes. Queries are written once, in the common subset (see
// the package documentation's porting rules), with `?` placeholders; the
// few fragments that cannot be written once are methods here, so this file
// is the one place to look when a query must say something differently.
type dialect struct {
	pg bool
}

var (
	sqliteDialect   = dialect{}
	postgresDialect = dialect{pg: true}
)

func (d dialect) String() string {
	if d.pg {
		return "postgres"
	}
	return "sqlite"
}

// rebind turns the `?` placeholders into PostgreSQL's `$1, $2, …`. SQLite
// takes the query as written, at no cost.
func (d dialect) rebind(q string) string {
	if !d.pg {
		return q
	}
	return sqlx.Rebind(sqlx.DOLLAR, q)
}

// seconds is b - a in seconds (a float), for two timestamp expressions.
func (d dialect) seconds(a, b string) string {
	if d.pg {
		return `EXTRACT(EPOCH FROM (` + b + ` - ` + a + `))::float8`
	}
	return `(julianday(` + b + `) - julianday(` + a + `)) * 86400`
}

// concatUnitSep joins expr over the rows, in order, separated by the ASCII
// unit separator (0x1f), which no text a person types contains.
func (d dialect) concatUnitSep(expr, order string) string {
	if d.pg {
		return `string_agg(` + expr + `, chr(31) ORDER BY ` + order + `)`
	}
	return `GROUP_CONCAT(` + expr + `, char(31) ORDER BY ` + order + `)`
}

// last4 is the last four characters of a text column, written as the
// expression the engine's index on it (migration 015) was made with.
func (d dialect) last4(col string) string {
	if d.pg {
		return `right(` + col + `, 4)`
	}
	return `substr(` + col + `, -4)`
}

// staffFlag is the staff-queue condition on cases c spelled exactly as the
// partial index cases_staff_queue (migration 011) was made with: SQLite
// matches partial indexes by the text of the condition, and its index says
// `needs_staff = 1`.
func (d dialect) staffFlag(col string) string {
	if d.pg {
		return col + ` = TRUE`
	}
	return col + ` = 1`
}

// lockName serialises the transactions that take the same name until they
// end, for a decision about rows that do not exist yet (the last place in
// a reception slot): FOR UPDATE locks only rows already there, so two
// PostgreSQL transactions could each count the places free and both
// insert. SQLite's single writer already runs them one after the other.
func (d dialect) lockName(tx *Tx, name string) error {
	if !d.pg {
		return nil
	}
	_, err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtext(?))`, name)
	return err
}

// forUpdate ends a SELECT that reads a row the transaction goes on to
// change according to what it read (a case's status before a transition):
// PostgreSQL locks the row until the transaction ends, so a concurrent
// transaction in another replica reads it after this one's change instead
// of before. SQLite's single writer needs nothing.
func (d dialect) forUpdate() string {
	if d.pg {
		return ` FOR UPDATE`
	}
	return ``
}

// skipLocked ends the subquery that picks a work queue's rows to lease:
// PostgreSQL locks the rows it picks and passes over those another
// transaction is leasing right now; SQLite's single writer needs nothing.
func (d dialect) skipLocked() string {
	if d.pg {
		return ` FOR UPDATE SKIP LOCKED`
	}
	return ``
}

// searchCond is the condition (on cases c) that every word of s appears in
// the case's searchable text, with its arguments; ok is false when nothing
// searchable is left. SQLite matches the bigram phrases in its FTS4 index;
// PostgreSQL narrows by the bigrams' array (a GIN index) and checks each
// word's phrase in the text.
func (d dialect) searchCond(s string) (string, []any, bool) {
	if !d.pg {
		m, ok := searchQuery(s)
		return `c.id IN (SELECT docid FROM case_search WHERE body MATCH ?)`, []any{m}, ok
	}
	runs := searchRuns(s)
	if len(runs) == 0 {
		return "", nil, false
	}
	var grams []string
	var conds []string
	var args []any
	for _, run := range runs {
		if len(run) == 1 {
			// A single character: a piece starting with it.
			conds = append(conds, `(' ' || s.body) LIKE ?`)
			args = append(args, "% "+string(run)+"%")
			continue
		}
		phrase := make([]string, 0, len(run)-1)
		for i := 0; i+1 < len(run); i++ {
			g := string(run[i : i+2])
			phrase = append(phrase, g)
			grams = append(grams, g)
		}
		conds = append(conds, `(' ' || s.body || ' ') LIKE ?`)
		args = append(args, "% "+strings.Join(phrase, " ")+" %")
	}
	where := strings.Join(conds, " AND ")
	if len(grams) > 0 {
		where = `s.grams @> ? AND ` + where
		args = append([]any{grams}, args...)
	}
	return `c.id IN (SELECT s.docid FROM case_search s WHERE ` + where + `)`, args, true
}

// indexCase writes a case's searchable text in the caller's transaction.
func (d dialect) indexCase(tx *Tx, id int64, description, address, label string) error {
	body := SearchText(description + " " + address + " " + label)
	if !d.pg {
		_, err := tx.Exec(`INSERT OR REPLACE INTO case_search (docid, body) VALUES (?, ?)`, id, body)
		return err
	}
	grams := strings.Fields(body)
	_, err := tx.Exec(`INSERT INTO case_search (docid, body, grams) VALUES (?, ?, ?)
		ON CONFLICT (docid) DO UPDATE SET body = excluded.body, grams = excluded.grams`, id, body, grams)
	return err
}

// insertID runs an INSERT (written without RETURNING) and returns the new
// row's id; inserted is false when ON CONFLICT … DO NOTHING left the row
// out. PostgreSQL reads the id from RETURNING id; SQLite from its
// last-insert rowid, which costs a third less CPU than reading a returned
// row on the journal's hot path.
func (tx *Tx) insertID(q string, args ...any) (id int64, inserted bool, err error) {
	if tx.d.pg {
		err = tx.Tx.QueryRowx(tx.d.rebind(q+` RETURNING id`), args...).Scan(&id)
		if isNoRows(err) {
			return 0, false, nil
		}
		return id, err == nil, err
	}
	res, err := tx.Tx.Exec(q, args...)
	if err != nil {
		return 0, false, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, false, err
	}
	id, err = res.LastInsertId()
	return id, err == nil, err
}

// Tx is a write transaction as the store's functions see it: sqlx's, with
// the queries rebound for the engine.
type Tx struct {
	*sqlx.Tx
	d dialect
}

// Exec runs a statement in the transaction.
func (tx *Tx) Exec(q string, args ...any) (sql.Result, error) {
	return tx.Tx.Exec(tx.d.rebind(q), args...)
}

// Get reads one row into dest.
func (tx *Tx) Get(dest any, q string, args ...any) error {
	return tx.Tx.Get(dest, tx.d.rebind(q), args...)
}

// Select reads rows into dest.
func (tx *Tx) Select(dest any, q string, args ...any) error {
	return tx.Tx.Select(dest, tx.d.rebind(q), args...)
}

// QueryRowx reads one row.
func (tx *Tx) QueryRowx(q string, args ...any) *sqlx.Row {
	return tx.Tx.QueryRowx(tx.d.rebind(q), args...)
}

// Queryx reads rows.
func (tx *Tx) Queryx(q string, args ...any) (*sqlx.Rows, error) {
	return tx.Tx.Queryx(tx.d.rebind(q), args...)
}

// pool is a connection pool with the queries rebound for the engine: the
// readers' (and, on PostgreSQL, everyone's).
type pool struct {
	*sqlx.DB
	d dialect
}

func (p pool) GetContext(ctx context.Context, dest any, q string, args ...any) error {
	return p.DB.GetContext(ctx, dest, p.d.rebind(q), args...)
}

func (p pool) SelectContext(ctx context.Context, dest any, q string, args ...any) error {
	return p.DB.SelectContext(ctx, dest, p.d.rebind(q), args...)
}

func (p pool) QueryxContext(ctx context.Context, q string, args ...any) (*sqlx.Rows, error) {
	return p.DB.QueryxContext(ctx, p.d.rebind(q), args...)
}

func (p pool) QueryRowxContext(ctx context.Context, q string, args ...any) *sqlx.Row {
	return p.DB.QueryRowxContext(ctx, p.d.rebind(q), args...)
}

func (p pool) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return p.DB.QueryContext(ctx, p.d.rebind(q), args...)
}

func (p pool) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	return p.DB.QueryRowContext(ctx, p.d.rebind(q), args...)
}

func (p pool) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return p.DB.ExecContext(ctx, p.d.rebind(q), args...)
}

func (p pool) Get(dest any, q string, args ...any) error {
	return p.DB.Get(dest, p.d.rebind(q), args...)
}

func (p pool) Select(dest any, q string, args ...any) error {
	return p.DB.Select(dest, p.d.rebind(q), args...)
}

func (p pool) QueryRowx(q string, args ...any) *sqlx.Row {
	return p.DB.QueryRowx(p.d.rebind(q), args...)
}

func (p pool) Queryx(q string, args ...any) (*sqlx.Rows, error) {
	return p.DB.Queryx(p.d.rebind(q), args...)
}
