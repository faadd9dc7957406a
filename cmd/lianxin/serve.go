package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/lianxin/lianxin/bot"
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
	if err := cfg.CheckDevToken(); err != nil {
		return err
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
	servers := []*http.Server{bot.NewServer(svc.Handler(), log)}
	listeners := []net.Listener{bot.LimitListener(ln, cfg.Webhook.MaxConns, svc.Metrics, log)}
	announce := []any{"addr", ln.Addr().String()}
	if cfg.OperatorAddr != "" {
		oln, err := net.Listen("tcp", cfg.OperatorAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("LIANXIN_OPERATOR_ADDR: %w", err)
		}
		servers = append(servers, bot.NewServer(svc.OperatorHandler(), log))
		listeners = append(listeners, oln)
		announce = append(announce, "operator", oln.Addr().String())
	}
	workers, stopWorkers := context.WithCancel(context.WithoutCancel(ctx))
	wait := svc.Start(workers)
	log.Info("lianxin serving", append(announce, "webhook", "http://"+ln.Addr().String()+"/wechat", "version", version)...)

	errc := make(chan error, len(servers))
	for i, srv := range servers {
		go func() { errc <- srv.Serve(listeners[i]) }()
	}
	select {
	case err := <-errc:
		for _, srv := range servers {
			srv.Close()
		}
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
	var errs []error
	for _, srv := range servers {
		errs = append(errs, srv.Shutdown(sctx))
	}
	stopWorkers()
	wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	log.Info("stopped")
	return nil
}
