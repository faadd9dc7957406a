package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/util"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot"
	"github.com/lianxin/lianxin/bot/media"
	"github.com/lianxin/lianxin/bot/wxapi"
	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/flows"
	"github.com/lianxin/lianxin/internal/embedredis"
	"github.com/lianxin/lianxin/internal/queue"
	"github.com/lianxin/lianxin/store"
)

func cmdServe(ctx context.Context, args []string, getenv func(string) string, stderr io.Writer) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q (serve is configured by LIANXIN_* variables)", args)
	}
	cfg, err := configs.Load(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	log := newLogger(stderr, cfg.LogLevel)
	if cfg.DevCredentials() {
		cfg.ApplyDevDefaults()
		log.Warn("LIANXIN_WECHAT_TOKEN is not set: using the development token; real WeChat traffic will be refused until it is set")
	}
	svc, err := newService(ctx, cfg, log)
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

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// service is lianxin assembled: stores, conversation engine, webhook and
// background workers. serve runs one; tests run several side by side.
type service struct {
	cfg        configs.Config
	log        *slog.Logger
	db         *store.DB
	rdb        *redis.Client
	embedded   *embedredis.Server
	data       *stationData
	engine     *flows.Engine
	supervisor *flows.Supervisor
	disp       *flows.Dispatcher
	replayer   *bot.Replayer
	api        *wxapi.Client     // nil without an AppSecret
	media      *media.Worker     // nil without an AppSecret
	outbox     *bot.OutboxWorker // nil without an AppSecret
	webhook    *bot.Webhook
	reg        *prometheus.Registry
	handler    http.Handler

	// convPrefix namespaces the conversations' Redis keys: the app id and
	// this database's instance id (see conversationPrefix).
	convPrefix string
	dirVersion atomic.Int64
	tuning     serviceTuning
}

// serviceTuning overrides worker timings; tests shorten them so retries
// happen in milliseconds instead of minutes.
type serviceTuning struct {
	retryBase, retryMax, interval time.Duration
}

func newService(ctx context.Context, cfg configs.Config, log *slog.Logger, tuning ...serviceTuning) (s *service, err error) {
	s = &service{cfg: cfg, log: log, reg: prometheus.NewRegistry()}
	if len(tuning) > 0 {
		s.tuning = tuning[0]
	}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	s.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	if s.db, err = store.Open(ctx, cfg.DBPath); err != nil {
		return nil, fmt.Errorf("LIANXIN_DB: %w", err)
	}
	instance, err := s.db.InstanceID(ctx)
	if err != nil {
		return nil, fmt.Errorf("LIANXIN_DB: %w", err)
	}
	s.convPrefix = conversationPrefix(cfg, instance)
	if s.rdb, s.embedded, err = connectRedis(ctx, cfg, log); err != nil {
		return nil, err
	}
	data, err := loadData(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.syncDirectory(ctx, data); err != nil {
		return nil, err
	}
	s.data = data
	s.engine = flows.NewEngine(flows.EngineConfig{
		Texts:      data.texts,
		Flows:      data.flows,
		Categories: data.categories,
		Directory:  data.directory,
		Store:      wakingStore{s.db, s},
		Numbering:  store.CaseNumbering{Prefix: cfg.CasePrefix, Location: cfg.Location()},
		IdleTTL:    cfg.Session.IdleTTL.Duration,
		DraftTTL:   cfg.Session.DraftTTL.Duration,
		Notify: flows.NotifyConfig{
			TemplateID:  cfg.WeChat.TemplateID,
			TemplateURL: cfg.Notify.TemplateURL,
			Fields:      cfg.Notify.TemplateFields,
		},
		RemindAt: cfg.Supervision.RemindAt,
	}, log)
	s.supervisor = flows.NewSupervisor(s.engine, wakingStore{s.db, s}, cfg.Supervision.Interval.Duration, log)
	texts := data.texts
	late := func(ctx context.Context, m *lianxin.Inbound, r lianxin.Reply) {
		if err := (wakingStore{s.db, s}).EnqueueReply(context.WithoutCancel(ctx), m, store.OutcomeLate, r); err != nil {
			log.Error("queueing a late reply failed", "resident", lianxin.MaskOpenID(m.OpenID), "err", err)
		}
	}
	s.disp = flows.NewDispatcher(s.rdb, s.convPrefix, s.engine, late, log)
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	_ = s.disp.Preload(pctx) // best effort: an unreachable Redis is handled per message
	cancel()
	metrics := bot.NewMetrics(s.reg)
	s.disp.Observe = func(part string, d time.Duration) { metrics.Phase.WithLabelValues(part).Observe(d.Seconds()) }
	s.replayer = bot.NewReplayer(wakingStore{s.db, s}, s.disp, metrics, log)
	if err := s.startAPI(); err != nil {
		return nil, err
	}
	s.webhook, err = bot.NewWebhook(bot.WebhookConfig{
		Token:      cfg.WeChat.Token,
		AppID:      cfg.WeChat.AppID,
		AESKey:     cfg.WeChat.AESKey,
		AESKeyPrev: cfg.WeChat.AESKeyPrev,
		MaxBody:    cfg.Webhook.MaxBody,
		Budget:     cfg.Webhook.ReplyBudget.Duration,
		Skew:       cfg.Webhook.TimestampSkew.Duration,
		BusyText:   texts.Get("busy"),
		LateText:   texts.Get("late"),
	}, s.disp, s.db, s.replayer, metrics, log)
	if err != nil {
		return nil, fmt.Errorf("LIANXIN_WECHAT_AESKEY: %w", err)
	}
	s.handler = bot.NewMux(s.webhook, s.reg, []bot.Check{
		{Name: "sqlite", Ping: s.db.Ping},
		{Name: "redis", Ping: func(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }},
	})
	return s, nil
}

// stationData is the station-editable data: texts, flows, categories and the
// directory, each from LIANXIN_CONFIG or the copy built into the binary.
type stationData struct {
	texts      flows.Texts
	flows      *flows.Flows
	categories []lianxin.Category
	directory  *lianxin.Directory
}

func loadData(cfg configs.Config) (*stationData, error) {
	read := func(name string) ([]byte, error) {
		b, err := configs.ReadData(cfg.ConfigDir, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return b, nil
	}
	d := &stationData{}
	b, err := read("messages.yaml")
	if err != nil {
		return nil, err
	}
	if d.texts, err = flows.LoadTexts(b); err != nil {
		return nil, err
	}
	if b, err = read("flows.yaml"); err != nil {
		return nil, err
	}
	if d.flows, err = flows.LoadFlows(b); err != nil {
		return nil, err
	}
	if b, err = read("categories.yaml"); err != nil {
		return nil, err
	}
	if d.categories, err = configs.LoadCategories(b); err != nil {
		return nil, err
	}
	keys := make([]string, len(d.categories))
	for i, c := range d.categories {
		keys[i] = c.Key
	}
	if b, err = read("directory.yaml"); err != nil {
		return nil, err
	}
	if d.directory, err = configs.LoadDirectory(b, keys); err != nil {
		return nil, err
	}
	return d, nil
}

// startAPI sets up the WeChat API client and the two queues that use it:
// photo downloads and outgoing messages. Without an AppSecret nothing can be
// sent; the queues then only fill, and are worked off once it is set.
func (s *service) startAPI() error {
	cfg := s.cfg
	// The SDK's URI modifier and HTTP client are process-wide: set once, here.
	wxOnce.Do(func() {
		util.SetURIModifier(wxapi.URIModifier(cfg.WeChat.APIBase))
		util.DefaultHTTPClient = wxapi.HTTPClient()
	})
	if cfg.WeChat.AppSecret == "" {
		s.log.Warn("LIANXIN_WECHAT_APPSECRET is not set: photos are not downloaded and notifications are not sent; they wait in SQLite until it is")
		return nil
	}
	api, err := wxapi.New(wxapi.Config{
		AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret, Base: cfg.WeChat.APIBase,
		StableToken: cfg.WeChat.StableToken, Redis: s.rdb, KeyPrefix: redisPrefix(cfg), Log: s.log,
	})
	if err != nil {
		return fmt.Errorf("WeChat API: %w", err)
	}
	s.api = api
	tu := s.tuning
	pacing := queue.Pacing{Log: s.log, RetryBase: tu.retryBase, RetryMax: tu.retryMax, Interval: tu.interval}
	if s.media, err = media.NewWorker(s.db, api, media.Config{DataDir: cfg.DataDir, Concurrency: cfg.Workers.Media, Registerer: s.reg,
		Pacing: pacing}); err != nil {
		return fmt.Errorf("LIANXIN_DATA_DIR: %w", err)
	}
	s.outbox, err = bot.NewOutboxWorker(s.db, api, bot.OutboxConfig{
		Concurrency: cfg.Workers.Notify, MaxAttempts: cfg.Workers.MaxAttempts, TemplateID: cfg.WeChat.TemplateID,
		Deputies: s.db, Window: s.db, Registerer: s.reg, Pacing: pacing, UnboundRetry: tu.retryMax,
	})
	return err
}

var wxOnce sync.Once

// wakingStore is the store as the conversation and the supervisor use it:
// after a write that queues a photo or a message, the worker that handles it
// is woken, so nothing waits for the next poll.
type wakingStore struct {
	*store.DB
	s *service
}

func (w wakingStore) wakeMedia() {
	if w.s.media != nil {
		w.s.media.Notify()
	}
}

func (w wakingStore) wakeOutbox() {
	if w.s.outbox != nil {
		w.s.outbox.Notify()
	}
}

func (w wakingStore) RegisterAttachment(ctx context.Context, m *lianxin.Inbound) (int64, error) {
	id, err := w.DB.RegisterAttachment(ctx, m)
	w.wakeMedia()
	return id, err
}

func (w wakingStore) CreateCase(ctx context.Context, num store.CaseNumbering, r lianxin.Report, events []lianxin.Event, notices []store.Notice, assign store.Assigner) (*lianxin.Case, bool, error) {
	c, created, err := w.DB.CreateCase(ctx, num, r, events, notices, assign)
	w.wakeOutbox()
	return c, created, err
}

func (w wakingStore) Transition(ctx context.Context, tr store.Transition) (*lianxin.Case, error) {
	c, err := w.DB.Transition(ctx, tr)
	w.wakeOutbox()
	return c, err
}

func (w wakingStore) MarkSupervised(ctx context.Context, caseID int64, mark string, events []lianxin.Event, notices []store.Notice) (bool, error) {
	done, err := w.DB.MarkSupervised(ctx, caseID, mark, events, notices)
	w.wakeOutbox()
	return done, err
}

func (w wakingStore) EnqueueReply(ctx context.Context, m *lianxin.Inbound, outcome string, r lianxin.Reply) error {
	err := w.DB.EnqueueReply(ctx, m, outcome, r)
	w.wakeOutbox()
	return err
}

// redisPrefix namespaces every key by account, so several accounts (or test
// runs) can share one Redis.
// redisPrefix is the account's Redis namespace. The access token lives
// directly under it: WeChat issues one per app id, whichever database uses it.
func redisPrefix(cfg configs.Config) string { return "lx:" + cfg.WeChat.AppID + ":" }

// conversationPrefix is where one database's conversations live: sessions,
// inboxes, applier locks and the replies remembered for WeChat's retries. A
// fresh database on a Redis that served another starts clean instead of
// resuming that one's drafts.
func conversationPrefix(cfg configs.Config, instance string) string {
	return redisPrefix(cfg) + "c" + instance + ":"
}

// syncDirectory makes the imported directory (SQLite) the one in use. On a
// database that never had one, the directory in configs is imported, so a
// fresh install works at once; afterwards changes to the files take effect
// through `lianxin import`, and serve only says when the files differ.
func (s *service) syncDirectory(ctx context.Context, data *stationData) error {
	version, err := s.db.DirectoryVersion(ctx)
	if err != nil {
		return err
	}
	if version == 0 {
		changes, err := s.db.ImportDirectory(ctx, data.directory, data.categories, false)
		if err != nil {
			return fmt.Errorf("importing the directory: %w", err)
		}
		s.log.Info("imported the directory from the configuration", "records", len(changes))
	} else if changes, err := s.db.ImportDirectory(ctx, data.directory, data.categories, true); err != nil {
		return err
	} else if len(changes) > 0 {
		s.log.Warn("the directory files differ from the imported directory; run `lianxin import` to apply them", "changes", len(changes))
	}
	dir, cats, err := s.db.LoadDirectory(ctx)
	if err != nil {
		return fmt.Errorf("loading the directory: %w", err)
	}
	data.directory, data.categories = dir, cats
	s.dirVersion.Store(version)
	return nil
}

// watchDirectory picks up an import made while serving (by `lianxin import`
// or another process) within DirectoryPoll.
func (s *service) watchDirectory(ctx context.Context) {
	t := time.NewTicker(directoryPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := s.db.DirectoryVersion(ctx)
		if err != nil || v == s.dirVersion.Load() {
			continue
		}
		dir, cats, err := s.db.LoadDirectory(ctx)
		if err != nil {
			s.log.Error("reloading the directory failed; keeping the previous one", "err", err)
			continue
		}
		s.engine.SetDirectory(dir, cats)
		s.dirVersion.Store(v)
		s.log.Info("directory reloaded", "version", v, "stations", len(dir.Stations), "deputies", len(dir.Deputies))
	}
}

const directoryPoll = 10 * time.Second

// Handler is the HTTP surface.
func (s *service) Handler() http.Handler { return s.handler }

// Start runs the background workers until ctx is cancelled; the returned
// function waits for them to stop.
func (s *service) Start(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	run := func(f func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(ctx)
		}()
	}
	// Concurrent requests share Redis round trips from here on.
	s.disp.Batch(ctx, 4)
	run(s.replayer.Run)
	run(s.watchDirectory)
	run(s.supervisor.Run)
	if s.media != nil {
		run(s.media.Run)
		run(s.outbox.Run)
	}
	return wg.Wait
}

// Close releases the stores. Call after the workers have stopped.
func (s *service) Close() {
	if s.rdb != nil {
		s.rdb.Close()
	}
	if s.embedded != nil {
		s.embedded.Close()
	}
	if s.db != nil {
		s.db.Close()
	}
}

// redisOptions bound every Redis call: the webhook must answer within 5 s
// even when Redis hangs, so no call may wait long.
func redisOptions(opt *redis.Options) *redis.Options {
	opt.DialTimeout = 500 * time.Millisecond
	opt.ReadTimeout = time.Second
	opt.WriteTimeout = time.Second
	opt.PoolTimeout = time.Second
	opt.MaxRetries = 1
	// A Redis that refuses connections is down: fail at once and defer the
	// message rather than retry the dial five times per request. go-redis
	// then stops dialing until a background probe (every second) succeeds.
	opt.DialerRetries = 1
	opt.PoolSize = 64
	return opt
}

// connectRedis connects to the configured Redis. "embedded", or an
// unreachable default, starts an in-process Redis-compatible server instead,
// for trying lianxin out; an unreachable Redis the operator configured is not
// replaced: serve starts, journals messages and replays them when it answers.
func connectRedis(ctx context.Context, cfg configs.Config, log *slog.Logger) (*redis.Client, *embedredis.Server, error) {
	if cfg.RedisURL != "embedded" {
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return nil, nil, fmt.Errorf("LIANXIN_REDIS_URL: %w", err)
		}
		c := redis.NewClient(redisOptions(opt))
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err = c.Ping(pctx).Err()
		cancel()
		if err == nil {
			return c, nil, nil
		}
		if cfg.RedisExplicit {
			log.Error("Redis is unreachable; messages will be journaled and replayed when it answers", "redis", redactURL(cfg.RedisURL), "err", err)
			return c, nil, nil
		}
		c.Close()
		log.Warn("no Redis at the default address", "redis", cfg.RedisURL, "err", err)
	}
	m, err := embedredis.Start("")
	if err != nil {
		return nil, nil, fmt.Errorf("embedded Redis: %w", err)
	}
	banner := strings.Repeat("!", 78)
	log.Warn(banner)
	log.Warn("WARNING: using an EMBEDDED in-process Redis at " + m.Addr() + ": conversations are lost when lianxin stops,")
	log.Warn("WARNING: and several lianxin processes cannot share it. Set LIANXIN_REDIS_URL for real use.")
	log.Warn(banner)
	c := redis.NewClient(redisOptions(&redis.Options{Addr: m.Addr()}))
	return c, m, nil
}

// redactURL drops the password from a Redis URL for logging.
func redactURL(s string) string {
	opt, err := redis.ParseURL(s)
	if err != nil {
		return "(unparseable)"
	}
	if opt.Password != "" {
		return strings.Replace(s, opt.Password, "***", 1)
	}
	return s
}
