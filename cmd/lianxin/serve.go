package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/internal/service"
)

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q (serve is configured by LIANXIN_* variables)", args)
	}
	cfg, err := configs.Load(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := service.NewLogger(stderr, cfg.LogLevel)
	if cfg.DevCredentials() {
		cfg.ApplyDevDefaults()
		log.Warn("LIANXIN_WECHAT_TOKEN is not set: using the development token; real WeChat traffic will be refused until it is set")
	}
	svc, err := service.New(ctx, cfg, log, service.Options{})
	if err != nil {
		return err
	}
	defer svc.Close()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("LIANXIN_ADDR: %w", err)
	}
	srv := &http.Server{
		Handler:           svc.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelDebug),
	}
	workers, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	wait := svc.Start(workers)
	log.Info("lianxin serving", "addr", ln.Addr().String(), "webhook", "http://"+ln.Addr().String()+"/wechat", "version", version)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		stopWorkers()
		wait()
		return err
	case <-ctx.Done():
	}
	// Graceful stop: finish in-flight webhook requests, then the workers,
	// then (deferred) the stores.
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	stopWorkers()
	wait()
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
