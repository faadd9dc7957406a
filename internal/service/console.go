package service

import (
	"context"
	"fmt"
	"net/http"
	"slices"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot/media"
	"github.com/lianxin/lianxin/bot/wxapi"
	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/store"
	"github.com/lianxin/lianxin/web"
)

// buildConsole makes the station console (/console/) from the store, the
// engine's casework and, with an AppSecret, WeChat web authorisation.
func (s *Service) buildConsole() (http.Handler, error) {
	cfg := s.Config
	wc := web.Config{
		Store:       consoleStore{s.DB},
		Casework:    s.Engine,
		Uploads:     uploads{s},
		Directory:   directoryEditor{s},
		Texts:       s.data.Texts.Get,
		DataDir:     cfg.DataDir,
		Location:    cfg.Location(),
		RemindAt:    cfg.Supervision.RemindAt,
		IdleTimeout: cfg.Console.IdleTimeout.Duration,
		PublicURL:   cfg.Console.PublicURL,
		Now:         s.opts.Clock,
		Log:         s.log.With("part", "console"),
	}
	s.practicesConsole(&wc)
	wc.Reports = reportDesk{s.DB, s}
	if cfg.WeChat.AppSecret != "" {
		wc.OAuth = &wxapi.OAuth{AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret, Base: cfg.WeChat.APIBase,
			AuthorizeBase: cfg.WeChat.OAuthBase}
	}
	h, err := web.New(wc)
	if err != nil {
		return nil, fmt.Errorf("console: %w", err)
	}
	return h, nil
}

// consoleStore is the store as the console reads it. (Case changes go
// through the engine, whose store wakes the outbox worker.)
type consoleStore struct {
	*store.DB
}

// uploads keeps a walk-in's photos as the media worker keeps residents'.
type uploads struct{ s *Service }

func (u uploads) SaveUpload(ctx context.Context, data []byte) (int64, error) {
	st, err := media.StorePhoto(ctx, u.s.Config.DataDir, data)
	if err != nil {
		return 0, err
	}
	return u.s.DB.RegisterUpload(ctx, st)
}

// directoryEditor changes the directory from the console through the
// import's own validation and storage, and makes the change the one in use
// at once (other processes pick it up within DirectoryPoll).
type directoryEditor struct{ s *Service }

func (d directoryEditor) EditDirectory(ctx context.Context, dir *lianxin.Directory, cats lianxin.Categories, a lianxin.AuditEntry) ([]lianxin.DirectoryChange, error) {
	checked, checkedCats, err := configs.CheckDirectory(dir, cats)
	if err != nil {
		return nil, lianxin.Errorf(lianxin.EINVALID, "%v", err)
	}
	changes, err := d.s.DB.ImportDirectory(ctx, checked, checkedCats, false, a)
	if err != nil {
		return nil, err
	}
	return changes, d.s.reloadDirectory(ctx)
}

// DeactivateDeputy takes a deputy out of the directory and routes their
// open cases to colleagues by the normal rules.
func (d directoryEditor) DeactivateDeputy(ctx context.Context, deputyID string, actor lianxin.User, addr string) (int, error) {
	dir, cats := d.s.Engine.Directory()
	next := *dir
	next.Deputies = nil
	found := false
	for _, dep := range dir.Deputies {
		if dep.ID == deputyID {
			found = true
			continue
		}
		next.Deputies = append(next.Deputies, dep)
	}
	if !found {
		return 0, lianxin.Errorf(lianxin.ENOTFOUND, "no active deputy %q", deputyID)
	}
	// Off the reception rosters too (copies: the directory in use is shared).
	next.Stations = slices.Clone(dir.Stations)
	for i := range next.Stations {
		st := &next.Stations[i]
		st.Reception = slices.Clone(st.Reception)
		for j := range st.Reception {
			st.Reception[j].DeputyIDs = slices.DeleteFunc(slices.Clone(st.Reception[j].DeputyIDs), func(id string) bool { return id == deputyID })
		}
	}
	checked, checkedCats, err := configs.CheckDirectory(&next, cats)
	if err != nil {
		return 0, lianxin.Errorf(lianxin.EINVALID, "%v", err)
	}
	a := lianxin.AuditEntry{Actor: actor.Ref(), Action: lianxin.AuditDeactivate, Subject: "deputy:" + deputyID, Addr: addr}
	if _, err := d.s.DB.ImportDirectory(ctx, checked, checkedCats, false, a); err != nil {
		return 0, err
	}
	// Routed while the engine still knows their name; they are excluded.
	moved, err := d.s.Engine.ReassignFrom(ctx, deputyID, actor, addr)
	if err != nil {
		return moved, err
	}
	return moved, d.s.reloadDirectory(ctx)
}

func (d directoryEditor) UnbindDeputy(ctx context.Context, deputyID string, a lianxin.AuditEntry) error {
	_, err := d.s.DB.UnbindDeputy(ctx, deputyID, a)
	return err
}

// reloadDirectory makes the stored directory the one this process uses.
func (s *Service) reloadDirectory(ctx context.Context) error {
	v, err := s.DB.DirectoryVersion(ctx)
	if err != nil {
		return err
	}
	dir, cats, err := s.DB.LoadDirectory(ctx)
	if err != nil {
		return err
	}
	s.Engine.SetDirectory(dir, cats)
	s.dirVersion.Store(v)
	return nil
}
