package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3" // the sqlite3 driver

	"github.com/lianxin/lianxin"
)

//go:embed migrations/*.sql
var migrations embed.FS

// DB is the opened database. On SQLite: a pool of readers and one writer
// connection behind the group-committing writer. On PostgreSQL: one pool,
// each write its own transaction (see postgres.go).
type DB struct {
	path string
	d    dialect
	read pool
	wdb  pool
	w    *writer // nil on PostgreSQL
	// pg is the PostgreSQL side (nil on SQLite).
	pg *pgSide
	// Now is the clock; tests replace it.
	Now func() time.Time
	// OnAttachmentFailed, when set, makes the notices queued with an
	// attachment given up on (MarkAttachmentFailed), from the attachment,
	// the resident who sent it and its case's number ("" for a draft's):
	// the wiring sets it so the resident is told the photo did not arrive.
	OnAttachmentFailed func(a lianxin.Attachment, openid, caseNumber string) []lianxin.Notice
	// SupporterNotices, when set, makes what a case's supporters (同一件,
	// and a grid worker who reported it) are told of a change's events,
	// queued in the change's transaction (see fanOut).
	SupporterNotices func(c lianxin.Case, events []lianxin.Event, supporters []lianxin.Supporter, idem string) []lianxin.Notice

	touched sync.Map // openid → time of the last residents update by this process
	// noncesPruned is when this process last deleted nonces whose time is up (unix seconds).
	noncesPruned atomic.Int64
	// lock is the file holding this process's claim on the database
	// (Shared or Exclusive); nil without one.
	lock *os.File
}

// Claim is how a process that opens the database shares it.
type Claim int

// Claims. Without one (the operator's commands) the database is opened
// whoever else has it: SQLite keeps concurrent writers apart.
const (
	// Shared is every serve process's: any number may serve one database.
	Shared Claim = iota + 1
	// Exclusive is for a process that must have the database to itself
	// (lianxin-dev sim -fakewx, which must never touch a real register):
	// refused while anyone has a claim, and refusing anyone while held.
	Exclusive
)

// Open opens the database dsn names and migrates it: a postgres:// (or
// postgresql://) URL is a PostgreSQL database (see OpenPostgres); anything
// else is a SQLite file, created when missing (a sqlite:// prefix is
// allowed). With a claim (at most one) it first claims the SQLite file, and
// fails when the claim conflicts with another process's.
func Open(ctx context.Context, dsn string, claim ...Claim) (_ *DB, err error) {
	if IsPostgres(dsn) {
		if len(claim) > 0 && claim[0] == Exclusive {
			return nil, errors.New("store: a PostgreSQL database cannot be claimed exclusively; use a SQLite file")
		}
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, strings.TrimPrefix(dsn, "sqlite://"), claim...)
}

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Engine is "sqlite" or "postgres".
func (db *DB) Engine() string { return db.d.String() }

func openSQLite(ctx context.Context, path string, claim ...Claim) (_ *DB, err error) {
	if path == "" {
		return nil, errors.New("store: empty database path")
	}
	var lock *os.File
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			return nil, fmt.Errorf("store: create directory for %s: %w", path, err)
		}
		if len(claim) > 0 {
			if lock, err = lockFile(path, claim[0] == Exclusive); err != nil {
				return nil, fmt.Errorf("store: %w", err)
			}
			defer func() {
				if err != nil {
					lock.Close()
				}
			}()
		}
	}
	// synchronous=NORMAL: commits do not fsync; the writer's syncer does,
	// pipelined with the next group, and durable writes are acknowledged
	// only after it (see writer). An acknowledged case survives a power cut.
	// _txlock=immediate takes the write lock at BEGIN so two processes never
	// deadlock upgrading a read to a write. _stmt_cache_size keeps the hot
	// statements prepared instead of parsing them on every call.
	syncMode := "NORMAL"
	if path == ":memory:" {
		syncMode = "FULL"
	}
	params := "_journal_mode=WAL&_foreign_keys=on&_busy_timeout=10000&_synchronous=" + syncMode + "&_txlock=immediate&_stmt_cache_size=64"
	dsn := "file:" + path + "?" + params
	wdb, err := sqlx.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	wdb.SetMaxOpenConns(1)
	wdb.SetConnMaxIdleTime(0)
	wdb.SetConnMaxLifetime(0)
	if err := wdb.PingContext(ctx); err != nil {
		wdb.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	read, err := sqlx.Open("sqlite3", "file:"+path+"?_foreign_keys=on&_busy_timeout=10000&mode=ro&_stmt_cache_size=64")
	if err != nil {
		wdb.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	read.SetMaxOpenConns(8)
	db := &DB{path: path, d: sqliteDialect, read: pool{read, sqliteDialect}, wdb: pool{wdb, sqliteDialect}, Now: time.Now, lock: lock}
	if err := db.migrate(ctx); err != nil {
		db.read.Close()
		db.wdb.Close()
		return nil, err
	}
	if err := db.backfillSearch(ctx); err != nil {
		db.read.Close()
		db.wdb.Close()
		return nil, fmt.Errorf("store: search index: %w", err)
	}
	wal := ""
	if path != ":memory:" {
		wal = path + "-wal"
		// The WAL file exists once anything was written (the migrations
		// table at least); make its directory entry durable once.
		if d, err := os.Open(filepath.Dir(path)); err == nil {
			d.Sync()
			d.Close()
		}
	}
	db.w = newWriter(wdb, wal)
	return db, nil
}

// Close flushes pending writes and closes the database, then gives up the
// claim on it.
func (db *DB) Close() error {
	if db.w != nil {
		db.w.close()
	}
	if db.pg != nil {
		db.pg.close()
		return db.read.Close()
	}
	err := errors.Join(db.read.Close(), db.wdb.Close())
	if db.lock != nil {
		db.lock.Close()
	}
	return err
}

// WriterStats is the work of the writes so far: the single writer's on
// SQLite, the transactions' on PostgreSQL (a group is one transaction).
func (db *DB) WriterStats() *WriterStats {
	if db.w == nil {
		return &db.pg.stats
	}
	return &db.w.stats
}

// Ping checks the database answers (readiness).
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.GetContext(ctx, &one, "SELECT 1")
}

// Path is the database file (on PostgreSQL, the URL without its password).
func (db *DB) Path() string { return db.path }

// Tx runs fn in a write transaction committed together with other concurrent
// writes (group commit) and returns once it is on disk. fn's effects are
// all-or-nothing and do not disturb the others'. fn may run again (when a
// neighbour in its group fails), so it must be safe to repeat.
//
// On PostgreSQL it is one transaction of its own on the pool, returning once
// committed (PostgreSQL's commit is durable); fn may run again when
// PostgreSQL asks for a retry (a deadlock, a serialization failure, a
// unique key taken by a concurrent transaction).
func (db *DB) Tx(ctx context.Context, fn func(tx *Tx) error) error {
	return db.write(ctx, fn, true)
}

// TxCommitted is Tx returning as soon as fn is committed (visible to
// readers), before it is on disk. It is for writes that are always followed
// by a durable one before anyone is told: writes are ordered, so that one's
// sync covers this one too. The conversation's writes are such: the
// message's journal entry follows before the reply leaves.
func (db *DB) TxCommitted(ctx context.Context, fn func(tx *Tx) error) error {
	return db.write(ctx, fn, false)
}

func (db *DB) write(ctx context.Context, fn func(tx *Tx) error, durable bool) error {
	if db.w == nil {
		return db.pg.tx(ctx, fn)
	}
	return db.w.do(ctx, fn, durable)
}

// now is the store's clock in UTC; on PostgreSQL to the microsecond it
// keeps, so a time written and read back is the same time.
func (db *DB) now() time.Time {
	if db.d.pg {
		return db.Now().UTC().Truncate(time.Microsecond)
	}
	return db.Now().UTC()
}

// migrate applies the numbered migrations not yet recorded, each in its own
// transaction.
func (db *DB) migrate(ctx context.Context) error {
	if _, err := db.wdb.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMP NOT NULL)`); err != nil {
		return fmt.Errorf("store: create migrations table: %w", err)
	}
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return err
	}
	sort.Slice(names, func(i, j int) bool { return migrationNumber(names[i]) < migrationNumber(names[j]) })
	for _, name := range names {
		if err := db.migrateFile(ctx, name); err != nil {
			return fmt.Errorf("store: migration %s: %w", name, err)
		}
	}
	return nil
}

func migrationNumber(name string) int {
	base := filepath.Base(name)
	n, _ := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
	return n
}

func (db *DB) migrateFile(ctx context.Context, name string) error {
	tx, err := db.wdb.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.GetContext(ctx, &n, `SELECT COUNT(*) FROM migrations WHERE name = ?`, filepath.Base(name)); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(migrations, name)
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, string(body)); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied_at) VALUES (?, ?)`, filepath.Base(name), time.Now().UTC()); err != nil {
		return err
	}
	return tx.Commit()
}

// InstanceID identifies this database, made when it was created. Every
// process using the same file gets the same id.
func (db *DB) InstanceID(ctx context.Context) (_ string, err error) {
	defer wrap(&err, "InstanceID")
	var id string
	err = db.read.GetContext(ctx, &id, `SELECT id FROM instance LIMIT 1`)
	return id, err
}

// wrap says where a store method failed, so a log line names the query that
// broke ("store: Case(KQ20261127-0007): ..."). Domain errors keep their
// code: errors.Is and lianxin.ErrorCode see through the wrapping. Arguments
// that identify a resident are masked by the callers.
func wrap(errp *error, format string, args ...any) {
	if *errp != nil {
		*errp = fmt.Errorf("store: %s: %w", fmt.Sprintf(format, args...), *errp)
	}
}
