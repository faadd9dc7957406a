package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver, for creating and dropping schemas
)

// PostgresEnv names the PostgreSQL the tests must use (a URL whose user may
// create schemas in its database). CI sets it, so the PostgreSQL half of the
// both-engine tests fails there rather than skips when PostgreSQL is
// missing. Unset, the tests use the PostgreSQL at defaultPostgres when one
// answers, and skip the PostgreSQL half otherwise (a machine with only Go
// and gcc).
const PostgresEnv = "LIANXIN_TEST_POSTGRES_URL"

const defaultPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var (
	pgOnce  sync.Once
	pgAdmin *sql.DB
	pgBase  string
	pgErr   error
)

// PostgresURL returns the URL of a fresh, empty schema in the test
// PostgreSQL (its search_path set to it), dropped with everything in it
// when the test ends. Without a PostgreSQL it skips the test, or fails it
// when LIANXIN_TEST_POSTGRES_URL says one must be there.
func PostgresURL(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() { pgBase, pgAdmin, pgErr = connectPostgres() })
	if pgErr != nil {
		if os.Getenv(PostgresEnv) != "" {
			t.Fatalf("%s is set but PostgreSQL does not answer: %v", PostgresEnv, pgErr)
		}
		t.Skipf("no PostgreSQL at %s (%v): the PostgreSQL half of this test is skipped; set %s to require one (CI does)", redact(defaultPostgres), pgErr, PostgresEnv)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "t_" + hex.EncodeToString(b[:])
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := pgAdmin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		t.Fatalf("PostgreSQL: create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := pgAdmin.ExecContext(ctx, `DROP SCHEMA `+schema+` CASCADE`); err != nil {
			t.Errorf("PostgreSQL: drop schema %s: %v", schema, err)
		}
	})
	u, _ := url.Parse(pgBase)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// HavePostgres reports whether a test PostgreSQL answers (without skipping).
func HavePostgres() bool {
	pgOnce.Do(func() { pgBase, pgAdmin, pgErr = connectPostgres() })
	return pgErr == nil
}

func connectPostgres() (string, *sql.DB, error) {
	base := os.Getenv(PostgresEnv)
	if base == "" {
		base = defaultPostgres
		u, _ := url.Parse(base)
		c, err := net.DialTimeout("tcp", u.Host, 300*time.Millisecond)
		if err != nil {
			return "", nil, err
		}
		c.Close()
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	db.SetMaxOpenConns(4)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return "", nil, err
	}
	return base, db, nil
}

func redact(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return s
	}
	return u.Redacted()
}

// Engines are the store's engines, as the both-engine tests name their
// halves.
var Engines = []string{"sqlite", "postgres"}

// StoreDSN returns a fresh, empty database of the engine for the test: a
// SQLite file in its temporary directory, or a PostgreSQL schema
// (PostgresURL: skipped or failed when PostgreSQL is missing).
func StoreDSN(t testing.TB, engine string) string {
	t.Helper()
	if engine == "postgres" {
		return PostgresURL(t)
	}
	return DBPath(t)
}

// EachEngine runs fn once per store engine, as subtests named after them;
// dsn makes a fresh database of the subtest's engine (each call a new one;
// open the same dsn twice for two processes sharing a database).
func EachEngine(t *testing.T, fn func(t *testing.T, dsn func() string)) {
	t.Helper()
	for _, e := range Engines {
		t.Run(e, func(t *testing.T) {
			fn(t, func() string { return StoreDSN(t, e) })
		})
	}
}
