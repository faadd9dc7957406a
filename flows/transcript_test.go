package flows

import (
	"context"
	"flag"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/transcript"
	"github.com/lianxin/lianxin/store"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts with the replies the engine gives now")

// TestTranscripts plays each conversation in testdata/transcripts straight
// into the engine, with a real store (SQLite, and PostgreSQL: the same
// transcripts must come out of both) and sessions kept as Redis would keep
// them (expiring after the TTL the engine asks for), and compares every
// reply, case and notification with the file. The service's tests play a
// few of them through the real webhook as well.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/transcripts/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		for _, file := range files {
			t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
				t.Parallel()
				clock := testenv.NewClock(transcript.Start)
				url := dsn()
				conv := newSessionMap(t, clock, url)
				// Rewritten from the SQLite run only: both must match the file.
				transcript.Run{File: file, DB: conv.db, Clock: clock, Conv: conv, Update: *update && !store.IsPostgres(url)}.Play(t)
			})
		}
	})
}

// sessionMap is the conversation as the dispatcher runs it, minus Redis:
// one session per resident, gone once its TTL has passed.
type sessionMap struct {
	e        *Engine
	db       *store.DB
	clock    *testenv.Clock
	sessions map[string]storedSession
}

type storedSession struct {
	state   string
	expires time.Time
}

// newSessionMap is an engine configured as the service configures it, on
// the shipped data and a fresh database holding the shipped directory.
func newSessionMap(t *testing.T, clock *testenv.Clock, dsn string) *sessionMap {
	texts, fl, cats, dir := loadShipped(t)
	db, err := store.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.Now = clock.Now
	if _, err := db.ImportDirectory(context.Background(), dir, cats, false); err != nil {
		t.Fatal(err)
	}
	cfg := configs.Default()
	e := NewEngine(EngineConfig{Texts: texts, Flows: fl, Categories: cats, Directory: dir, Store: db,
		Numbering: lianxin.CaseNumbering{Prefix: cfg.CasePrefix, Location: cfg.Location()},
		IdleTTL:   cfg.Session.IdleTTL.Duration, DraftTTL: cfg.Session.DraftTTL.Duration,
		Notify:   NotifyConfig{TemplateURL: cfg.Notify.TemplateURL, Fields: cfg.Notify.TemplateFields},
		RemindAt: cfg.Supervision.RemindAt,
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return &sessionMap{e: e, db: db, clock: clock, sessions: map[string]storedSession{}}
}

func (c *sessionMap) Send(t testing.TB, m *lianxin.Inbound) string {
	now := c.clock.Now()
	s := c.sessions[m.OpenID]
	if !s.expires.IsZero() && !now.Before(s.expires) {
		s.state = ""
	}
	next, ttl, replies := c.e.Step(context.Background(), s.state, []*lianxin.Inbound{m}, now)
	c.sessions[m.OpenID] = storedSession{state: next, expires: now.Add(ttl)}
	return replies[0].Text
}
