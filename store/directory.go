package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"sort"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/lianxin/lianxin"
)

// DirectoryChange is one difference an import made.
type DirectoryChange struct {
	Kind   string   `json:"kind"` // station, deputy, department, category
	ID     string   `json:"id"`
	Name   string   `json:"name"`
	Action string   `json:"action"` // added, changed, removed, restored
	Fields []string `json:"fields,omitempty"`
}

func (c DirectoryChange) String() string {
	s := fmt.Sprintf("%-8s %-10s %s (%s)", c.Action, c.Kind, c.ID, c.Name)
	if len(c.Fields) > 0 {
		s += fmt.Sprintf(": %v", c.Fields)
	}
	return s
}

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
// With dryRun it only reports what an import would change.
func (db *DB) ImportDirectory(ctx context.Context, dir *lianxin.Directory, cats []lianxin.Category, dryRun bool) ([]DirectoryChange, error) {
	now := db.now()
	var changes []DirectoryChange
	err := db.Tx(ctx, func(tx *sqlx.Tx) (err error) {
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
					changes = append(changes, DirectoryChange{Kind: t.kind, ID: r.id, Name: r.name, Action: "added"})
				case !prev.Active:
					changes = append(changes, DirectoryChange{Kind: t.kind, ID: r.id, Name: r.name, Action: "restored"})
				case prev.Data != data:
					changes = append(changes, DirectoryChange{Kind: t.kind, ID: r.id, Name: r.name, Action: "changed", Fields: changedFields(prev.Data, data)})
				}
				cols := append([]string{t.key, "name", "data", "position", "active", "updated_at"}, t.extraCols...)
				args := append([]any{r.id, r.name, data, pos, true, now}, r.extra...)
				q := fmt.Sprintf(`INSERT INTO %s (%s) VALUES (%s) ON CONFLICT (%s) DO UPDATE SET name = excluded.name, data = excluded.data,
					position = excluded.position, active = 1, updated_at = CASE WHEN %s.data = excluded.data AND %s.active = 1 THEN %s.updated_at ELSE excluded.updated_at END`,
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
					changes = append(changes, DirectoryChange{Kind: t.kind, ID: id, Name: r.Name, Action: "removed"})
					if _, err := tx.Exec(fmt.Sprintf(`UPDATE %s SET active = 0, updated_at = ? WHERE %s = ?`, t.table, t.key), now, id); err != nil {
						return err
					}
				}
			}
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
			_, err = tx.Exec(`UPDATE directory_meta SET version = version + 1, imported_at = ? WHERE id = 1`, now)
		}
		return err
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return changes, err
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
func (db *DB) DirectoryVersion(ctx context.Context) (int64, error) {
	var v int64
	err := db.read.GetContext(ctx, &v, `SELECT version FROM directory_meta WHERE id = 1`)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

// LoadDirectory returns the active directory and categories as imported.
func (db *DB) LoadDirectory(ctx context.Context) (*lianxin.Directory, []lianxin.Category, error) {
	dir := &lianxin.Directory{}
	var cats []lianxin.Category
	load := func(table string, each func(data []byte) error) error {
		var rows []string
		if err := db.read.SelectContext(ctx, &rows, fmt.Sprintf(`SELECT data FROM %s WHERE active = 1 ORDER BY position`, table)); err != nil {
			return err
		}
		for _, r := range rows {
			if err := each([]byte(r)); err != nil {
				return fmt.Errorf("%s: %w", table, err)
			}
		}
		return nil
	}
	err := errors.Join(
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
	)
	return dir, cats, err
}

// DeputyRecord is a deputy with their WeChat binding.
type DeputyRecord struct {
	lianxin.Deputy
	OpenID  string     `json:"-"`
	Bound   bool       `json:"bound"`
	BoundAt *time.Time `json:"bound_at,omitempty"`
	Active  bool       `json:"active"`
}

// DeputyRecords lists deputies in directory order, inactive ones last.
func (db *DB) DeputyRecords(ctx context.Context) ([]DeputyRecord, error) {
	var rows []struct {
		Data    string         `db:"data"`
		OpenID  sql.NullString `db:"openid"`
		BoundAt *time.Time     `db:"bound_at"`
		Active  bool           `db:"active"`
	}
	if err := db.read.SelectContext(ctx, &rows, `SELECT data, openid, bound_at, active FROM deputies ORDER BY active DESC, position`); err != nil {
		return nil, err
	}
	out := make([]DeputyRecord, len(rows))
	for i, r := range rows {
		if err := json.Unmarshal([]byte(r.Data), &out[i].Deputy); err != nil {
			return nil, err
		}
		out[i].OpenID, out[i].Bound, out[i].BoundAt, out[i].Active = r.OpenID.String, r.OpenID.Valid, r.BoundAt, r.Active
	}
	return out, nil
}

// DeputyByOpenID returns the active deputy bound to a WeChat user.
func (db *DB) DeputyByOpenID(ctx context.Context, openid string) (lianxin.Deputy, bool, error) {
	var data string
	err := db.read.GetContext(ctx, &data, `SELECT data FROM deputies WHERE openid = ? AND active = 1`, openid)
	if errors.Is(err, sql.ErrNoRows) {
		return lianxin.Deputy{}, false, nil
	} else if err != nil {
		return lianxin.Deputy{}, false, err
	}
	var d lianxin.Deputy
	err = json.Unmarshal([]byte(data), &d)
	return d, err == nil, err
}

// DeputyOpenID returns the WeChat user a deputy is bound to ("" if none).
func (db *DB) DeputyOpenID(ctx context.Context, deputyID string) (string, error) {
	var openid sql.NullString
	err := db.read.GetContext(ctx, &openid, `SELECT openid FROM deputies WHERE id = ?`, deputyID)
	if errors.Is(err, sql.ErrNoRows) {
		return "", lianxin.Errorf(lianxin.ENOTFOUND, "no deputy %s", deputyID)
	}
	return openid.String, err
}

func codeHash(code string) string {
	h := sha256.Sum256([]byte("lianxin-invite:" + code))
	return hex.EncodeToString(h[:])
}

// CreateInvite makes a one-time 6-digit code for a deputy to bind their
// WeChat with (绑定 CODE). Earlier unused codes of the deputy stop working.
func (db *DB) CreateInvite(ctx context.Context, deputyID string, ttl time.Duration) (code string, expires time.Time, err error) {
	now := db.now()
	expires = now.Add(ttl)
	err = db.Tx(ctx, func(tx *sqlx.Tx) error {
		var n int
		if err := tx.Get(&n, `SELECT COUNT(*) FROM deputies WHERE id = ? AND active = 1`, deputyID); err != nil {
			return err
		} else if n == 0 {
			return lianxin.Errorf(lianxin.ENOTFOUND, "no active deputy %q (see lianxin deputy list)", deputyID)
		}
		if _, err := tx.Exec(`DELETE FROM deputy_invites WHERE deputy_id = ? AND used_at IS NULL`, deputyID); err != nil {
			return err
		}
		for attempt := 0; attempt < 10; attempt++ {
			v, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
			if err != nil {
				return err
			}
			code = fmt.Sprintf("%06d", v.Int64())
			res, err := tx.Exec(`INSERT INTO deputy_invites (code_hash, deputy_id, expires_at, created_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (code_hash) DO NOTHING`, codeHash(code), deputyID, expires, now)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 1 {
				return nil
			}
		}
		return errors.New("store: could not find a free invite code")
	})
	return code, expires, err
}

// Bind errors a deputy can see.
var (
	ErrBadCode      = lianxin.Errorf(lianxin.EINVALID, "wrong or expired code")
	ErrTooManyTries = lianxin.Errorf(lianxin.EUNAUTHORIZED, "too many wrong codes")
)

// BindLimit is how many wrong codes one WeChat user may send in BindWindow.
const (
	BindLimit  = 5
	BindWindow = time.Hour
)

// Bind binds the sender's WeChat to the deputy the code was made for. A
// wrong, used or expired code is counted against the sender; after BindLimit
// failures in BindWindow every attempt is refused, so six digits cannot be
// guessed.
func (db *DB) Bind(ctx context.Context, code, openid string) (lianxin.Deputy, error) {
	now := db.now()
	var dep lianxin.Deputy
	var outcome error
	err := db.TxCommitted(ctx, func(tx *sqlx.Tx) error {
		outcome = nil
		var failures int
		if err := tx.Get(&failures, `SELECT COUNT(*) FROM bind_failures WHERE openid = ? AND at > ?`, openid, now.Add(-BindWindow)); err != nil {
			return err
		}
		if failures >= BindLimit {
			outcome = ErrTooManyTries
			return nil
		}
		var inv struct {
			DeputyID  string     `db:"deputy_id"`
			ExpiresAt time.Time  `db:"expires_at"`
			UsedAt    *time.Time `db:"used_at"`
		}
		err := tx.Get(&inv, `SELECT deputy_id, expires_at, used_at FROM deputy_invites WHERE code_hash = ?`, codeHash(code))
		if errors.Is(err, sql.ErrNoRows) || (err == nil && (inv.UsedAt != nil || !now.Before(inv.ExpiresAt))) {
			outcome = ErrBadCode
			_, err = tx.Exec(`INSERT INTO bind_failures (openid, at) VALUES (?, ?)`, openid, now)
			return err
		} else if err != nil {
			return err
		}
		// One WeChat user is one deputy: a re-bind moves the binding.
		if _, err := tx.Exec(`UPDATE deputies SET openid = NULL, bound_at = NULL WHERE openid = ? AND id <> ?`, openid, inv.DeputyID); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE deputies SET openid = ?, bound_at = ? WHERE id = ?`, openid, now, inv.DeputyID); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE deputy_invites SET used_at = ? WHERE code_hash = ?`, now, codeHash(code)); err != nil {
			return err
		}
		var data string
		if err := tx.Get(&data, `SELECT data FROM deputies WHERE id = ?`, inv.DeputyID); err != nil {
			return err
		}
		return json.Unmarshal([]byte(data), &dep)
	})
	if err != nil {
		return lianxin.Deputy{}, err
	}
	return dep, outcome
}
