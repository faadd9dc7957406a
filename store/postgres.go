package store

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
)

// PostgreSQL (issue 16). The same store, the PostgreSQL way: no single
// writer and no group commit; every write is a transaction of its own on a
// pool of connections, and PostgreSQL's commit is the durability contract
// (a reply that acknowledges a write leaves after the commit returns). Case
// numbers are an upsert on the day's counter row (its row lock orders
// concurrent cases), open counts and the register's history are kept by
// PL/pgSQL triggers, the work queues (attachments, outbox) are claimed
// with FOR UPDATE SKIP LOCKED, and rows queued in one replica wake the
// workers of every replica through LISTEN/NOTIFY (Listen).

//go:embed migrations/postgres/*.sql
var pgMigrations embed.FS

// pgSide is what only a PostgreSQL store has.
type pgSide struct {
	db      *sqlx.DB
	cfg     *pgx.ConnConfig
	channel string // LISTEN/NOTIFY channel: lianxin_<schema>
	stats   WriterStats
}

// defaultPGConns is the pool's size unless the URL's max_conns says.
const defaultPGConns = 20

// openPostgres connects to the PostgreSQL database the URL names, and
// migrates it. The URL is libpq's (postgres://user:pass@host:port/db?…,
// with sslmode, search_path and the like), plus max_conns: the pool's size
// (default 20).
func openPostgres(ctx context.Context, dsn string) (_ *DB, err error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %s is not a URL", redactURL(dsn))
	}
	maxConns := defaultPGConns
	q := u.Query()
	if v := q.Get("max_conns"); v != "" {
		if maxConns, err = strconv.Atoi(v); err != nil || maxConns < 1 {
			return nil, fmt.Errorf("store: max_conns=%q in %s is not a positive number", v, redactURL(dsn))
		}
		q.Del("max_conns")
		u.RawQuery = q.Encode()
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", redactURL(dsn), err)
	}
	// Times are compared and printed in UTC, as SQLite keeps them.
	cfg.RuntimeParams["timezone"] = "UTC"
	if cfg.RuntimeParams["application_name"] == "" {
		cfg.RuntimeParams["application_name"] = "lianxin"
	}
	sqldb := stdlib.OpenDB(*cfg, stdlib.OptionAfterConnect(utcTimes))
	sqldb.SetMaxOpenConns(maxConns)
	sqldb.SetMaxIdleConns(maxConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	x := sqlx.NewDb(sqldb, "pgx")
	db := &DB{path: redactURL(dsn), d: postgresDialect, read: pool{x, postgresDialect}, wdb: pool{x, postgresDialect},
		Now: time.Now, pg: &pgSide{db: x, cfg: cfg}}
	defer func() {
		if err != nil {
			x.Close()
		}
	}()
	if err := x.PingContext(ctx); err != nil {
		return nil, fmt.Errorf("store: connect to %s: %w", db.path, err)
	}
	var schema string
	if err := x.GetContext(ctx, &schema, `SELECT current_schema()`); err != nil {
		return nil, fmt.Errorf("store: %s: %w", db.path, err)
	}
	db.pg.channel = "lianxin_" + schema
	if err := db.migratePostgres(ctx); err != nil {
		return nil, err
	}
	if err := db.backfillSearch(ctx); err != nil {
		return nil, fmt.Errorf("store: search index: %w", err)
	}
	return db, nil
}

// utcTimes makes timestamptz values come back in UTC, as from SQLite.
func utcTimes(_ context.Context, c *pgx.Conn) error {
	c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID, Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
	return nil
}

func (p *pgSide) close() {}

// pgTxTimeout bounds one write transaction: a PostgreSQL that stopped
// answering fails the write instead of holding its caller for ever.
const pgTxTimeout = 30 * time.Second

// tx runs fn in a transaction of its own and commits it. Once begun it runs
// to its end whatever happens to ctx (as a write queued for SQLite's
// writer does): a caller that stops waiting does not leave it half done.
// It is retried, a few times, when PostgreSQL says a concurrent transaction
// got in the way (serialization failure, deadlock, a unique key taken
// meanwhile: fn then sees the other's row and acts on it).
func (p *pgSide) tx(ctx context.Context, fn func(*Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	for attempt := 0; ; attempt++ {
		err := p.txOnce(ctx, fn)
		if err == nil || attempt == 4 || !retryable(err) {
			return err
		}
		time.Sleep(time.Duration(1+rand.IntN(5<<attempt)) * time.Millisecond)
	}
}

func (p *pgSide) txOnce(ctx context.Context, fn func(*Tx) error) (err error) {
	start := time.Now()
	tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), pgTxTimeout)
	defer cancel()
	stx, err := p.db.BeginTxx(tctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	p.stats.Groups.Add(1)
	p.stats.Writes.Add(1)
	if err := safeRun(fn, &Tx{stx, postgresDialect}); err != nil {
		stx.Rollback()
		return err
	}
	c := time.Now()
	p.stats.ExecNanos.Add(int64(c.Sub(start)))
	err = stx.Commit()
	p.stats.CommitNanos.Add(int64(time.Since(c)))
	p.stats.Commits.Add(1)
	if err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// retryable reports whether PostgreSQL refused a transaction because of a
// concurrent one, so running it again can succeed.
func retryable(err error) bool {
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		return false
	}
	switch pe.Code {
	case "40001", "40P01", "23505": // serialization_failure, deadlock_detected, unique_violation
		return true
	}
	return false
}

// migratePostgres applies the PostgreSQL migrations not yet recorded, each
// in its own transaction, holding an advisory lock of the schema so that
// replicas starting together apply each once.
func (db *DB) migratePostgres(ctx context.Context) error {
	conn, err := db.pg.db.Connx(ctx)
	if err != nil {
		return fmt.Errorf("store: migrate: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(hashtext('lianxin-migrate:' || current_schema()))`); err != nil {
		return fmt.Errorf("store: migrate: lock: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock(hashtext('lianxin-migrate:' || current_schema()))`)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL)`); err != nil {
		return fmt.Errorf("store: create migrations table: %w", err)
	}
	names, err := fs.Glob(pgMigrations, "migrations/postgres/*.sql")
	if err != nil {
		return err
	}
	sort.Slice(names, func(i, j int) bool { return migrationNumber(names[i]) < migrationNumber(names[j]) })
	for _, name := range names {
		base := name[len("migrations/postgres/"):]
		var n int
		if err := conn.GetContext(ctx, &n, `SELECT COUNT(*) FROM migrations WHERE name = $1`, base); err != nil {
			return fmt.Errorf("store: migration %s: %w", base, err)
		} else if n > 0 {
			continue
		}
		body, err := fs.ReadFile(pgMigrations, name)
		if err != nil {
			return err
		}
		tx, err := conn.BeginTxx(ctx, nil)
		if err != nil {
			return fmt.Errorf("store: migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO migrations (name, applied_at) VALUES ($1, $2)`, base, time.Now().UTC()); err != nil {
			tx.Rollback()
			return fmt.Errorf("store: migration %s: %w", base, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("store: migration %s: %w", base, err)
		}
	}
	return nil
}

// Queues woken through Listen: the payloads the PostgreSQL triggers send
// when rows are queued (migrations/postgres/001_init.sql).
const (
	QueueOutbox      = "outbox"
	QueueAttachments = "attachments"
)

// Listen calls wake with a queue's name (QueueOutbox, QueueAttachments)
// whenever a transaction in any process sharing the database committed rows
// to it, until ctx ends: the workers of every replica wake at once instead
// of at their next poll. After a lost connection it reconnects and calls
// wake("") (anything may have been queued meanwhile). On SQLite it returns
// at once: processes sharing a file find their work by polling.
func (db *DB) Listen(ctx context.Context, wake func(queue string)) error {
	if db.pg == nil {
		return nil
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		err := db.pg.listen(ctx, wake, &backoff)
		if ctx.Err() != nil {
			return nil
		}
		_ = err // a dropped connection: try again
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
		wake("")
	}
	return nil
}

func (p *pgSide) listen(ctx context.Context, wake func(string), backoff *time.Duration) error {
	conn, err := pgx.ConnectConfig(ctx, p.cfg.Copy())
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, `LISTEN `+pgx.Identifier{p.channel}.Sanitize()); err != nil {
		return err
	}
	*backoff = 100 * time.Millisecond
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		wake(n.Payload)
	}
}

// redactURL hides a URL's password.
func redactURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}
