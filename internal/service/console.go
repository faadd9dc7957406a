package service

import (
	"context"
	"fmt"
	"net/http"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot/media"
	"github.com/lianxin/lianxin/bot/wxapi"
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

// directoryEditor changes the directory from the console: unbinding a
// deputy's WeChat today; edits go through the import's validation.
type directoryEditor struct{ s *Service }

func (d directoryEditor) EditDirectory(ctx context.Context, dir *lianxin.Directory, cats lianxin.Categories, a lianxin.AuditEntry) ([]lianxin.DirectoryChange, error) {
	return nil, lianxin.Errorf(lianxin.EUNAVAILABLE, "directory edits are made in directory.yaml and `lianxin import`")
}

func (d directoryEditor) UnbindDeputy(ctx context.Context, deputyID string, a lianxin.AuditEntry) error {
	return d.s.DB.UnbindDeputy(ctx, deputyID, a)
}
