package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/flows"
	"github.com/lianxin/lianxin/internal/service"
	"github.com/lianxin/lianxin/store"
)

// operatorEnv is what the operator commands share: the configuration, the
// station data and the database.
type operatorEnv struct {
	cfg    configs.Config
	data   *service.Data
	db     *store.DB
	clock  func() time.Time
	getenv func(string) string
}

func openOperatorEnv(ctx context.Context, getenv func(string) string) (*operatorEnv, error) {
	return openOperatorEnvFor(ctx, getenv, false)
}

// openOperatorEnvFor opens the register; only a command that sets one up
// (the first console account) may create its SQLite file. Any other
// command on a file that is not there refuses: run from the wrong
// directory or with a typo in LIANXIN_DB it would otherwise report an
// empty register made on the spot («no cases», «nothing in the outbox»).
func openOperatorEnvFor(ctx context.Context, getenv func(string) string, create bool) (*operatorEnv, error) {
	cfg, err := configs.Load(getenv)
	if err != nil {
		return nil, fmt.Errorf("invalid configuration:\n%w", err)
	}
	data, err := service.LoadData(cfg)
	if err != nil {
		return nil, err
	}
	if path := strings.TrimPrefix(cfg.DBPath, "sqlite://"); !create && !store.IsPostgres(cfg.DBPath) && path != ":memory:" {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			abs, _ := filepath.Abs(path)
			return nil, fmt.Errorf("LIANXIN_DB: no register at %s (%s): set LIANXIN_DB to the file serve uses, or run this where serve runs", path, abs)
		}
	}
	db, err := store.Open(ctx, cfg.DBPath)
	if err != nil {
		return nil, fmt.Errorf("LIANXIN_DB: %w", err)
	}
	return &operatorEnv{cfg: cfg, data: data, db: db, getenv: getenv}, nil
}

func (e *operatorEnv) category(key string) lianxin.Category {
	if c, ok := e.data.Categories.ByKey(key); ok {
		return c
	}
	return lianxin.Category{Key: key}
}

// now is the clock operator commands judge deadlines by (tests replace it).
func (e *operatorEnv) now() time.Time {
	if e.clock != nil {
		return e.clock()
	}
	return time.Now()
}

func (e *operatorEnv) categoryName(key string) string { return e.data.Categories.Name(key) }

// text is one of the station-editable texts (configs/messages.yaml).
func (e *operatorEnv) text(key string, pairs ...string) string {
	return e.data.Texts.Get(key, pairs...)
}

// statusName is a status as staff say it: 已受理.
func (e *operatorEnv) statusName(s lianxin.Status) string { return e.text("label_status_" + string(s)) }

// engine is the conversation engine staff actions go through (the same
// rules and notices as in chat), with the directory as imported.
func (e *operatorEnv) engine(ctx context.Context) (*flows.Engine, error) {
	data := *e.data
	if v, err := e.db.DirectoryVersion(ctx); err != nil {
		return nil, err
	} else if v > 0 {
		if data.Directory, data.Categories, err = e.db.LoadDirectory(ctx); err != nil {
			return nil, err
		}
	}
	return flows.NewEngine(service.EngineConfig(e.cfg, &data, e.db), slog.New(slog.DiscardHandler)), nil
}

// actor is who acts, as the case's timeline names them: --by, or the login name.
func (e *operatorEnv) actor(by string) string {
	for _, v := range []string{by, e.getenv("USER"), e.getenv("LOGNAME")} {
		if v = strings.TrimSpace(v); v != "" {
			return v
		}
	}
	return "operator"
}

// numbering is how case numbers are made here.
func (e *operatorEnv) numbering() lianxin.CaseNumbering {
	return lianxin.CaseNumbering{Prefix: e.cfg.CasePrefix, Location: e.cfg.Location()}
}

func (e *operatorEnv) stationName(id string) string {
	if st, ok := e.data.Directory.Station(id); ok {
		return st.Name
	}
	return id
}

func (e *operatorEnv) deputyName(id string) string {
	if d, ok := e.data.Directory.Deputy(id); ok {
		return d.Name
	}
	return id
}
