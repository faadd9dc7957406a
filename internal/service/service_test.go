package service_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/internal/service"
)

// An operator at 2 a.m. with a broken setup gets an error naming what is
// wrong, never a panic that hides it.
func TestStartupErrorsAreMessages(t *testing.T) {
	for name, tc := range map[string]struct {
		edit func(t *testing.T, cfg *configs.Config)
		want string
	}{
		"database path is a directory":  {func(t *testing.T, cfg *configs.Config) { cfg.DBPath = t.TempDir() }, "LIANXIN_DB"},
		"redis URL with a bad database": {func(t *testing.T, cfg *configs.Config) { cfg.RedisURL = "redis://127.0.0.1:6379/abc" }, "LIANXIN_REDIS_URL"},
		"broken messages file": {func(t *testing.T, cfg *configs.Config) {
			cfg.ConfigDir = t.TempDir()
			if err := os.WriteFile(filepath.Join(cfg.ConfigDir, "messages.yaml"), []byte("welcome: [unclosed"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, "messages"},
	} {
		t.Run(name, func(t *testing.T) {
			cfg := testConfig(t)
			tc.edit(t, &cfg)
			var svc *service.Service
			var err error
			func() {
				defer func() {
					if p := recover(); p != nil {
						t.Fatalf("service.New panicked: %v", p)
					}
				}()
				svc, err = service.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), service.Options{})
			}()
			if err == nil {
				svc.Close()
				t.Fatal("started with a broken configuration")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s", err, tc.want)
			}
		})
	}
}
