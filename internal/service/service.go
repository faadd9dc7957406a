// Package service is lianxin assembled: it opens the stores (SQLite, Redis),
// loads the station-editable data, builds the conversation engine, the
// dispatcher, the webhook, the WeChat API client and the background workers
// (media, outbox, replay, supervision, directory reload, the retention of
// residents' contact details), and starts and
// stops them in order. It is the one place that wires the technology
// packages together; serve runs one Service, the developer tools and the
// end-to-end tests run several side by side.
package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
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
	"github.com/lianxin/lianxin/dispatch"
	"github.com/lianxin/lianxin/flows"
	"github.com/lianxin/lianxin/internal/embedredis"
	"github.com/lianxin/lianxin/internal/queue"
	"github.com/lianxin/lianxin/open311"
	"github.com/lianxin/lianxin/store"
	"github.com/lianxin/lianxin/web"
)

// Service is lianxin assembled: stores, conversation engine, webhook and
// background workers. Its parts are exported for the operator tools, the
// developer tools and the end-to-end tests, which look inside a running
// service; nothing else should reach past Handler, Start and Close.
type Service struct {
	Config     configs.Config
	DB         *store.DB
	Redis      *redis.Client
	Engine     *flows.Engine
	Supervisor *flows.Supervisor
	Dispatcher *dispatch.Dispatcher
	Replayer   *bot.Replayer
	API        *wxapi.Client     // nil without an AppSecret
	Media      *media.Worker     // nil without an AppSecret
	Outbox     *bot.OutboxWorker // nil without an AppSecret
	MassPush   *bot.MassPusher   // nil without an AppSecret
	Tagging    *bot.TagWorker    // nil without an AppSecret
	Webhook    *bot.Webhook
	Registry   *prometheus.Registry
	Metrics    *bot.Metrics

	log      *slog.Logger
	opts     Options
	embedded *embedredis.Server
	data     *Data
	handler  http.Handler
	operator http.Handler
	// convPrefix namespaces the conversations' Redis keys: the app id and
	// this database's instance id (see conversationPrefix).
	convPrefix string
	dirVersion atomic.Int64
}

// Options are what a caller may change beyond the configuration.
type Options struct {
	// Clock is the time conversations, the store and supervision read
	// (default time.Now); tests and transcripts set it to move time on. The
	// webhook checks WeChat's timestamps and the workers pace real network
	// calls, so they keep real time.
	Clock func() time.Time
	// RetryBase, RetryMax and Interval override the media and outbox
	// workers' pacing (zero keeps their defaults); tests shorten them so
	// retries happen in milliseconds instead of minutes.
	RetryBase, RetryMax, Interval time.Duration
	// ExclusiveDB claims the database for this service alone (sim
	// -fakewx): refused while a serve uses it, and refusing serves while
	// held. By default serves share it (store.Shared).
	ExclusiveDB bool
}

// New assembles a service from a validated configuration. It opens the
// stores and loads the data but starts nothing: call Start for the
// workers and serve Handler. Every failure is an error naming what failed;
// what was opened is closed again.
func New(ctx context.Context, cfg configs.Config, log *slog.Logger, opts Options) (_ *Service, err error) {
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	s := &Service{Config: cfg, log: log, opts: opts, Registry: prometheus.NewRegistry()}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	s.Registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := s.openStores(ctx); err != nil {
		return nil, err
	}
	data, err := LoadData(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.syncDirectory(ctx, data); err != nil {
		return nil, err
	}
	s.data = data
	metrics := bot.NewMetrics(s.Registry)
	s.Metrics = metrics
	s.buildConversations(ctx, metrics)
	if err := s.startAPI(); err != nil {
		return nil, err
	}
	if err := s.buildWebhook(metrics); err != nil {
		return nil, err
	}
	return s, nil
}

// openStores opens SQLite and connects to Redis.
func (s *Service) openStores(ctx context.Context) (err error) {
	cfg := s.Config
	claim := store.Shared
	if s.opts.ExclusiveDB {
		claim = store.Exclusive
	}
	if s.DB, err = store.Open(ctx, cfg.DBPath, claim); err != nil {
		return fmt.Errorf("LIANXIN_DB: %w", err)
	}
	s.DB.Now = s.opts.Clock
	instance, err := s.DB.InstanceID(ctx)
	if err != nil {
		return fmt.Errorf("LIANXIN_DB: %w", err)
	}
	s.convPrefix = conversationPrefix(cfg, instance)
	if s.Redis, s.embedded, err = connectRedis(ctx, cfg, s.log); err != nil {
		return err
	}
	return nil
}

// buildConversations makes the engine, supervision, the dispatcher that
// feeds the engine from Redis, and the replayer for what Redis missed.
func (s *Service) buildConversations(ctx context.Context, metrics *bot.Metrics) {
	cfg, data, log := s.Config, s.data, s.log
	st := wakingStore{s.DB, s}
	ec := EngineConfig(cfg, data, st)
	// Without an AppSecret nothing is sent; with one, the outbox knows
	// whether WeChat is taking messages.
	ec.Delivery = func() bool { return s.Outbox != nil && s.Outbox.Delivering() }
	ec.Casework, ec.Now = st, s.opts.Clock
	s.Engine = flows.NewEngine(ec, log)
	// A photo the media worker gives up on is told to the resident, in the
	// transaction that marks it failed.
	s.DB.OnAttachmentFailed = s.Engine.AttachmentFailedNotices
	// Residents who joined a case (同一件) hear of it as its resident does.
	s.DB.SupporterNotices = s.Engine.SupporterNotices
	s.Supervisor = flows.NewSupervisor(s.Engine, st, cfg.Supervision.Interval.Duration, log)
	s.Supervisor.Now = s.opts.Clock
	late := func(ctx context.Context, m *lianxin.Inbound, r lianxin.Reply) {
		if err := st.EnqueueReply(context.WithoutCancel(ctx), m, lianxin.OutcomeLate, r); err != nil {
			log.Error("queueing a late reply failed", "resident", lianxin.MaskOpenID(m.OpenID), "err", err)
		}
	}
	s.Dispatcher = dispatch.NewDispatcher(s.Redis, s.convPrefix, s.Engine, late, log)
	s.Dispatcher.Now = s.opts.Clock
	pctx, cancel := context.WithTimeout(ctx, time.Second)
	_ = s.Dispatcher.Preload(pctx) // best effort: an unreachable Redis is handled per message
	cancel()
	s.Dispatcher.Observe = func(part string, d time.Duration) { metrics.ObservePhase(part, d.Seconds()) }
	s.Replayer = bot.NewReplayer(st, s.Dispatcher, metrics, log)
}

// EngineConfig is the conversation engine's configuration: serve's, and
// that of the operator's commands that act as staff (lianxin cases assign).
func EngineConfig(cfg configs.Config, data *Data, st flows.Store) flows.EngineConfig {
	return flows.EngineConfig{
		Texts:      data.Texts,
		Flows:      data.Flows,
		Categories: data.Categories,
		Directory:  data.Directory,
		Store:      st,
		Numbering:  lianxin.CaseNumbering{Prefix: cfg.CasePrefix, Location: cfg.Location()},
		IdleTTL:    cfg.Session.IdleTTL.Duration,
		DraftTTL:   cfg.Session.DraftTTL.Duration,
		Notify: flows.NotifyConfig{
			TemplateID:  cfg.WeChat.TemplateID,
			TemplateURL: cfg.Notify.TemplateURL,
			Fields:      cfg.Notify.TemplateFields,
			CaseURL:     caseURL(cfg.Console.PublicURL),
		},
		RemindAt:  cfg.Supervision.RemindAt,
		MeToo:     lianxin.MeTooConfig{RadiusM: cfg.MeToo.RadiusM, Window: cfg.MeToo.Window.Duration},
		Reception: receptionSettings(cfg),
	}
}

// buildWebhook makes the webhook and the HTTP surface around it.
func (s *Service) buildWebhook(metrics *bot.Metrics) (err error) {
	cfg, texts := s.Config, s.data.Texts
	s.Webhook, err = bot.NewWebhook(bot.WebhookConfig{
		Token:          cfg.WeChat.Token,
		AppID:          cfg.WeChat.AppID,
		AESKey:         cfg.WeChat.AESKey,
		AESKeyPrev:     cfg.WeChat.AESKeyPrev,
		AllowPlaintext: cfg.WeChat.AllowPlaintext,
		MaxBody:        cfg.Webhook.MaxBody,
		Budget:         cfg.Webhook.ReplyBudget.Duration,
		Skew:           cfg.Webhook.TimestampSkew.Duration,
		BusyText:       texts.Get("busy"),
		LateText:       texts.Get("late"),
	}, s.Dispatcher, s.DB, s.Replayer, metrics, s.log)
	if err != nil {
		return fmt.Errorf("LIANXIN_WECHAT_AESKEY: %w", err)
	}
	// Readiness means taking messages: journaling them (a write) and
	// conversing (Redis).
	s.operator = bot.NewOperatorMux(s.Registry, []bot.Check{
		{Name: s.DB.Engine(), Ping: s.DB.CheckWritable},
		{Name: "redis", Ping: func(ctx context.Context) error { return s.Redis.Ping(ctx).Err() }},
	}, s.log)
	var inline http.Handler = s.operator
	if cfg.OperatorAddr != "" {
		inline = nil // served on their own address: OperatorHandler
	}
	mux := bot.NewMux(s.Webhook, inline)
	console, err := s.buildConsole()
	if err != nil {
		return err
	}
	mux.Handle(web.Prefix, console)
	// The public pages: a consultation's draft, as the push links to it.
	mux.Handle(web.PublicPrefix, console)
	// Open311 GeoReport v2: other channels file into the same register.
	mux.Handle(open311.Prefix, s.open311())
	s.handler = mux
	return nil
}

// caseURL is how deputies' notices link to a case, when the console has a
// public address.
func caseURL(publicURL string) func(string) string {
	if publicURL == "" {
		return nil
	}
	return func(number string) string { return web.CaseLink(strings.TrimRight(publicURL, "/"), number) }
}

// ConversationPrefix is where this service's conversations live in Redis.
func (s *Service) ConversationPrefix() string { return s.convPrefix }

// Data is the station-editable data: texts, flows, categories and the
// directory, each from LIANXIN_CONFIG or the copy built into the binary.
type Data struct {
	Texts      flows.Texts
	Flows      *flows.Flows
	Categories lianxin.Categories
	Directory  *lianxin.Directory
}

// LoadData reads and checks the station-editable data; a bad file is
// refused with the line at fault.
func LoadData(cfg configs.Config) (*Data, error) {
	read := func(name string) ([]byte, error) {
		b, err := configs.ReadData(cfg.ConfigDir, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		return b, nil
	}
	d := &Data{}
	b, err := read("messages.yaml")
	if err != nil {
		return nil, err
	}
	if d.Texts, err = flows.LoadTexts(b); err != nil {
		return nil, err
	}
	if b, err = read("flows.yaml"); err != nil {
		return nil, err
	}
	if d.Flows, err = flows.LoadFlows(b); err != nil {
		return nil, err
	}
	if b, err = read("categories.yaml"); err != nil {
		return nil, err
	}
	if d.Categories, err = configs.LoadCategories(b); err != nil {
		return nil, err
	}
	if b, err = read("directory.yaml"); err != nil {
		return nil, err
	}
	if d.Directory, err = configs.LoadDirectory(b, d.Categories.Keys()); err != nil {
		return nil, err
	}
	return d, nil
}

// startAPI sets up the WeChat API client and the two queues that use it:
// photo downloads and outgoing messages. Without an AppSecret nothing can be
// sent; the queues then only fill, and are worked off once it is set.
func (s *Service) startAPI() error {
	cfg := s.Config
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
		StableToken: cfg.WeChat.StableToken, Redis: s.Redis, KeyPrefix: RedisPrefix(cfg), Log: s.log,
		MediaHosts: cfg.WeChat.MediaHosts,
	})
	if err != nil {
		return fmt.Errorf("WeChat API: %w", err)
	}
	s.API = api
	pacing := queue.Pacing{Log: s.log, RetryBase: s.opts.RetryBase, RetryMax: s.opts.RetryMax, Interval: s.opts.Interval}
	if s.Media, err = media.NewWorker(wakingStore{s.DB, s}, api, media.Config{DataDir: cfg.DataDir, Concurrency: cfg.Workers.Media, Registerer: s.Registry,
		Pacing: pacing}); err != nil {
		return fmt.Errorf("LIANXIN_DATA_DIR: %w", err)
	}
	// Photos decode at the lowest CPU priority; the Ps their threads hold
	// are added to the webhook's, not taken from them.
	media.ReserveProcs(s.Media.PhotoSlots())
	s.Outbox, err = bot.NewOutboxWorker(s.DB, api, bot.OutboxConfig{
		Concurrency: cfg.Workers.Notify, MaxAttempts: cfg.Workers.MaxAttempts, TemplateID: cfg.WeChat.TemplateID,
		Deputies: s.DB, Window: s.DB, Cases: s.DB, Media: s.DB, DataDir: cfg.DataDir,
		Registerer: s.Registry, Pacing: pacing, UnboundRetry: s.opts.RetryMax,
	})
	s.MassPush = bot.NewMassPusher(s.DB, massBroadcaster{api}, pacing, cfg.Workers.MaxAttempts)
	s.Tagging = bot.NewTagWorker(s.DB, api, pacing, cfg.Workers.MaxAttempts)
	return err
}

var wxOnce sync.Once

// wakingStore is the store as the conversation and the supervisor use it:
// after a write that queues a photo or a message, the worker that handles it
// is woken, so nothing waits for the next poll.
type wakingStore struct {
	*store.DB
	s *Service
}

func (w wakingStore) wakeMedia() {
	if w.s.Media != nil {
		w.s.Media.Notify()
	}
}

func (w wakingStore) wakeOutbox() {
	if w.s.Outbox != nil {
		w.s.Outbox.Notify()
	}
}

func (w wakingStore) RegisterAttachment(ctx context.Context, m *lianxin.Inbound) (int64, error) {
	id, err := w.DB.RegisterAttachment(ctx, m)
	w.wakeMedia()
	return id, err
}

func (w wakingStore) CreateCase(ctx context.Context, num lianxin.CaseNumbering, r lianxin.Report, events []lianxin.Event, notices []lianxin.Notice, assign lianxin.Assigner) (*lianxin.Case, bool, error) {
	c, created, err := w.DB.CreateCase(ctx, num, r, events, notices, assign)
	w.wakeOutbox()
	return c, created, err
}

func (w wakingStore) Transition(ctx context.Context, tr lianxin.Transition) (*lianxin.Case, error) {
	c, err := w.DB.Transition(ctx, tr)
	w.wakeOutbox()
	return c, err
}

func (w wakingStore) MarkSupervised(ctx context.Context, caseID int64, mark string, events []lianxin.Event, notices []lianxin.Notice) (bool, error) {
	done, err := w.DB.MarkSupervised(ctx, caseID, mark, events, notices)
	w.wakeOutbox()
	return done, err
}

func (w wakingStore) MarkAttachmentFailed(ctx context.Context, id int64, owner string, now time.Time, reason string) error {
	err := w.DB.MarkAttachmentFailed(ctx, id, owner, now, reason)
	w.wakeOutbox() // the resident is told
	return err
}

func (w wakingStore) AmendNotices(ctx context.Context, caseID int64, events []lianxin.Event, amendments []lianxin.NoticeAmendment) error {
	err := w.DB.AmendNotices(ctx, caseID, events, amendments)
	w.wakeOutbox()
	return err
}

func (w wakingStore) EnqueueReply(ctx context.Context, m *lianxin.Inbound, outcome lianxin.Outcome, r lianxin.Reply) error {
	err := w.DB.EnqueueReply(ctx, m, outcome, r)
	w.wakeOutbox()
	return err
}

// RedisPrefix is the account's Redis namespace. The access token lives
// directly under it: WeChat issues one per app id, whichever database uses it.
func RedisPrefix(cfg configs.Config) string { return "lx:" + cfg.WeChat.AppID + ":" }

// conversationPrefix is where one database's conversations live: sessions,
// inboxes, applier locks and the replies remembered for WeChat's retries. A
// fresh database on a Redis that served another starts clean instead of
// resuming that one's drafts.
func conversationPrefix(cfg configs.Config, instance string) string {
	return RedisPrefix(cfg) + "c" + instance + ":"
}

// syncDirectory makes the imported directory (SQLite) the one in use. On a
// database that never had one, the directory in configs is imported, so a
// fresh install works at once; afterwards changes to the files take effect
// through `lianxin import`, and serve only says when the files differ.
func (s *Service) syncDirectory(ctx context.Context, data *Data) error {
	version, err := s.DB.DirectoryVersion(ctx)
	if err != nil {
		return err
	}
	if version == 0 {
		changes, err := s.DB.ImportDirectory(ctx, data.Directory, data.Categories, false)
		if err != nil {
			return fmt.Errorf("importing the directory: %w", err)
		}
		s.log.Info("imported the directory from the configuration", "records", len(changes))
	} else if changes, err := s.DB.ImportDirectory(ctx, data.Directory, data.Categories, true); err != nil {
		return err
	} else if len(changes) > 0 {
		s.log.Warn("the directory files differ from the imported directory; run `lianxin import` to apply them", "changes", len(changes))
	}
	dir, cats, err := s.DB.LoadDirectory(ctx)
	if err != nil {
		return fmt.Errorf("loading the directory: %w", err)
	}
	data.Directory, data.Categories = dir, cats
	s.dirVersion.Store(version)
	if !slices.ContainsFunc(dir.Stations, func(st lianxin.Station) bool { return st.Staff.Reachable() }) && !dir.District.Staff.Reachable() {
		s.log.Warn("no staff in the directory (district.staff, or a station's staff): cases waiting for a person (人工, returned by every deputy) are only in the register, `lianxin cases list --queue`")
	}
	return nil
}

// watchDirectory picks up an import made while serving (by `lianxin import`
// or another process) within DirectoryPoll.
func (s *Service) watchDirectory(ctx context.Context) {
	t := time.NewTicker(DirectoryPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		v, err := s.DB.DirectoryVersion(ctx)
		if err != nil || v == s.dirVersion.Load() {
			continue
		}
		dir, cats, err := s.DB.LoadDirectory(ctx)
		if err != nil {
			s.log.Error("reloading the directory failed; keeping the previous one", "err", err)
			continue
		}
		s.Engine.SetDirectory(dir, cats)
		s.dirVersion.Store(v)
		s.log.Info("directory reloaded", "version", v, "stations", len(dir.Stations), "deputies", len(dir.Deputies))
	}
}

// DirectoryPoll is how soon a running service picks up an import.
const DirectoryPoll = 10 * time.Second

// Handler is the HTTP surface WeChat reaches: the webhook, /healthz and,
// unless LIANXIN_OPERATOR_ADDR is set, /readyz and /metrics.
func (s *Service) Handler() http.Handler { return s.handler }

// OperatorHandler is /readyz, /metrics and /healthz, for
// LIANXIN_OPERATOR_ADDR.
func (s *Service) OperatorHandler() http.Handler { return s.operator }

// Start runs the background workers until ctx is cancelled; the returned
// function waits for them to stop.
func (s *Service) Start(ctx context.Context) (wait func()) {
	var wg sync.WaitGroup
	run := func(f func(context.Context)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f(ctx)
		}()
	}
	// Concurrent requests share Redis round trips from here on.
	batching := s.Dispatcher.Batch(ctx, 4)
	wg.Add(1)
	go func() {
		defer wg.Done()
		batching()
	}()
	run(s.Replayer.Run)
	run(s.watchDirectory)
	run(s.Supervisor.Run)
	run(s.retention)
	if s.Media != nil {
		run(s.Media.Run)
		run(s.Outbox.Run)
		// On PostgreSQL, rows queued by any replica wake this one's
		// workers at once (LISTEN/NOTIFY); SQLite returns at once.
		run(func(ctx context.Context) {
			_ = s.DB.Listen(ctx, func(queue string) {
				if queue != store.QueueOutbox {
					s.Media.Notify()
				}
				if queue != store.QueueAttachments {
					s.Outbox.Notify()
				}
			})
		})
		run(s.MassPush.Run)
		run(s.Tagging.Run)
	}
	run(s.receptionLoop)
	return wg.Wait
}

// Close releases the stores. Call after the workers have stopped.
func (s *Service) Close() {
	if s.Redis != nil {
		s.Redis.Close()
	}
	if s.embedded != nil {
		s.embedded.Close()
	}
	if s.DB != nil {
		s.DB.Close()
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
		c, err := NewRedisClient(cfg.RedisURL)
		if err != nil {
			return nil, nil, err
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		err = c.Ping(pctx).Err()
		cancel()
		if err == nil {
			return c, nil, nil
		}
		if cfg.RedisExplicit {
			log.Error("Redis is unreachable; messages will be journaled and replayed when it answers", "redis", RedactURL(cfg.RedisURL), "err", err)
			return c, nil, nil
		}
		c.Close()
		log.Warn("no Redis at the default address", "redis", RedactURL(cfg.RedisURL), "err", err)
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

// NewRedisClient is a client for LIANXIN_REDIS_URL with the service's short
// timeouts: a redis:// (or rediss://, unix://) URL's server, or, for a
// redis-sentinel:// URL, the master its sentinels name, followed through
// failovers (go-redis's failover client: a *redis.Client like the other,
// so every part — the dispatcher's scripts, the shared WeChat access token —
// uses it unchanged).
func NewRedisClient(raw string) (*redis.Client, error) {
	if configs.IsSentinelURL(raw) {
		u, err := configs.ParseSentinelURL(raw)
		if err != nil {
			return nil, fmt.Errorf("LIANXIN_REDIS_URL %s: %w", RedactURL(raw), err)
		}
		o := redisOptions(&redis.Options{})
		return redis.NewFailoverClient(&redis.FailoverOptions{
			MasterName: u.Master, SentinelAddrs: u.Sentinels, DB: u.DB,
			Username: u.Username, Password: u.Password,
			SentinelUsername: u.SentinelUsername, SentinelPassword: u.SentinelPassword,
			DialTimeout: o.DialTimeout, ReadTimeout: o.ReadTimeout, WriteTimeout: o.WriteTimeout,
			PoolTimeout: o.PoolTimeout, MaxRetries: o.MaxRetries, DialerRetries: o.DialerRetries, PoolSize: o.PoolSize,
		}), nil
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		// url.Parse's errors quote the URL, password and all.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("LIANXIN_REDIS_URL %s: %w", RedactURL(raw), err)
	}
	return redis.NewClient(redisOptions(opt)), nil
}

// RedactURL is a Redis URL without its password, for logs and errors.
func RedactURL(s string) string { return configs.RedactURL(s) }

// NewLogger is the log every lianxin process writes: text lines at the
// configured level (debug, info, warn, error).
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l}))
}

// Data is the station data the service started with.
func (s *Service) Data() *Data { return s.data }

// EmbeddedRedis is the address of the in-process Redis the service fell
// back to, or "" when it uses a real one.
func (s *Service) EmbeddedRedis() string {
	if s.embedded == nil {
		return ""
	}
	return s.embedded.Addr()
}
