package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"sort"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2"
	"github.com/silenceper/wechat/v2/cache"
	offConfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/sirupsen/logrus"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/internal/obviousbot"
	"github.com/lianxin/lianxin/internal/service"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
	"github.com/lianxin/lianxin/internal/wxtest/photos"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
	"github.com/lianxin/lianxin/store"
)

// bareSDKHandler is the baseline: the silenceper/wechat SDK's own server
// answering every message with an echo and nothing else (no dedupe, no
// journal, no conversation state).
func bareSDKHandler(appID, token, aesKey string) http.Handler {
	wc := wechat.NewWechat()
	// NewWechat turns logrus to debug, logging every message; a deployment
	// turns that off, and so does the baseline (it makes the SDK faster).
	logrus.SetLevel(logrus.InfoLevel)
	logrus.SetOutput(io.Discard)
	oa := wc.GetOfficialAccount(&offConfig.Config{AppID: appID, AppSecret: "x", Token: token, EncodingAESKey: aesKey, Cache: cache.NewMemory()})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv := oa.GetServer(r, w)
		srv.SetMessageHandler(func(m *message.MixMessage) *message.Reply {
			return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText(m.Content)}
		})
		if err := srv.Serve(); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		srv.Send()
	})
}

// bareHTTPHandler reads the request and answers "success" (which WeChat
// takes as "no reply"): no signature, no decryption, no XML. It is the floor
// under both servers: what HTTP and the load generator cost by themselves.
func bareHTTPHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "success")
	})
}

// serveLoopback serves h on a loopback port until ctx ends; it returns the URL.
func serveLoopback(ctx context.Context, h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// benchSide is one server under load.
type benchSide struct {
	name   string
	client *wxsim.Client
	strict bool
	// svc and url are set for an in-process lianxin.
	svc *service.Service
	url string
	// cases counts the server's registered cases, when it keeps any.
	cases       func(context.Context) (int, error)
	casesBefore int
	close       func()
	rounds      []wxsim.LoadStats
	// CPU time per message: this process (server and load generator) and
	// Redis, over all rounds.
	cpu, redisCPU time.Duration
	msgs          int
}

func (b *benchSide) median() wxsim.LoadStats {
	r := append([]wxsim.LoadStats(nil), b.rounds...)
	sort.Slice(r, func(i, j int) bool { return r[i].PerSecond() < r[j].PerSecond() })
	return r[len(r)/2]
}

func cmdBench(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	senders := fs.Int("senders", 32, "concurrent residents (WeChat's concurrent requests)")
	conversations := fs.Int("conversations", 2000, "whole report conversations per round per server (nine messages each)")
	rounds := fs.Int("rounds", 3, "rounds per server, alternating; the median round is reported")
	target := fs.String("target", "", "benchmark a running lianxin at this webhook URL instead of an in-process one (uses LIANXIN_WECHAT_TOKEN/APPID/AESKEY)")
	baseline := fs.Bool("baseline", true, "also run the bare silenceper/wechat SDK echo server")
	floor := fs.Bool("floor", true, "also run a bare net/http handler that answers \"success\" (what the load generator and HTTP alone cost)")
	obvious := fs.Bool("obvious", true, "also run the obvious report bot on the SDK (internal/obviousbot): the peer lianxin is measured against")
	withPhotos := fs.Bool("photos", true, "also run a lianxin that fetches and processes every photo while the load runs (phone-sized JPEGs from a fake WeChat API), to show photos do not slow the chat")
	register := fs.Int("register", 0, "also run a second lianxin whose register already holds this many cases (e.g. 100000), to show cost does not grow with it")
	dbURL := fs.String("db", "", "run the in-process lianxin on this PostgreSQL database (postgres://…; a throwaway one: the bench files its cases there) instead of a temporary SQLite file")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the measured rounds to this file")
	memprofile := fs.String("memprofile", "", "write an allocation profile of the measured rounds to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Whole conversations for every sender.
	*conversations = (*conversations + *senders - 1) / *senders * *senders
	if *dbURL != "" && *register > 0 {
		return errors.New("-register builds its register in SQLite: not with -db")
	}
	if *senders < 1 || *conversations < 1 || *rounds < 1 || *register < 0 {
		return errors.New("-senders, -conversations and -rounds must be at least 1, -register at least 0")
	}
	cfg, err := configs.Load(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	dir, err := os.MkdirTemp("", "lianxin-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))

	var lx *benchSide
	var rdb *redis.Client // the Redis lianxin uses; the obvious bot shares it
	if *target != "" {
		if cfg.WeChat.AESKey == "" || cfg.WeChat.Token == "" {
			return errors.New("-target needs LIANXIN_WECHAT_TOKEN, LIANXIN_WECHAT_APPID and LIANXIN_WECHAT_AESKEY of that server")
		}
		lx = &benchSide{name: "lianxin (" + *target + ")", strict: true, client: &wxsim.Client{URL: *target, Token: cfg.WeChat.Token,
			AppID: cfg.WeChat.AppID, AESKey: cfg.WeChat.AESKey, Account: "gh_bench", Mode: wxsim.Safe}}
		opt, err := redis.ParseURL(cfg.RedisURL)
		if err != nil {
			return fmt.Errorf("LIANXIN_REDIS_URL: %w", err)
		}
		rdb = redis.NewClient(opt)
		defer rdb.Close()
	} else {
		name := "lianxin"
		if *dbURL != "" {
			if !store.IsPostgres(*dbURL) {
				return errors.New("-db must be a postgres:// URL")
			}
			cfg.DBPath, name = *dbURL, "lianxin (PostgreSQL)"
		}
		lx, err = startLianxin(ctx, cfg, filepath.Join(dir, "lianxin"), name, log)
		if err != nil {
			return err
		}
		defer lx.close()
		rdb = lx.svc.Redis
	}
	sides := []*benchSide{lx}
	if *register > 0 && *target == "" {
		big, err := startLianxin(ctx, cfg, filepath.Join(dir, "register"), fmt.Sprintf("lianxin, %d cases", *register), log)
		if err != nil {
			return err
		}
		defer big.close()
		fmt.Fprintf(stderr, "registering %d cases in the second lianxin's register…\n", *register)
		if err := preloadRegister(ctx, big.svc, *register); err != nil {
			return err
		}
		sides = append(sides, big)
	}
	var ph *benchSide
	if *withPhotos && *target == "" {
		pcfg := cfg
		pcfg.DBPath = "" // its own SQLite file, whatever -db says: photos, not the engine, are measured here
		ph, err = startLianxinWithPhotos(ctx, pcfg, filepath.Join(dir, "photos"), log)
		if err != nil {
			return err
		}
		defer ph.close()
		sides = append(sides, ph)
	}
	var ob *benchSide
	if *obvious {
		ob, err = startObvious(ctx, rdb, filepath.Join(dir, "obvious.db"), log)
		if err != nil {
			return err
		}
		defer ob.close()
		sides = append([]*benchSide{ob}, sides...)
	}
	var sdk *benchSide
	if *baseline {
		key, token, appID := wxsim.NewAESKey(), "bench-"+randomHex(8), "wxbaseline"+randomHex(4)
		url, closeSrv, err := serveLoopback(ctx, bareSDKHandler(appID, token, key))
		if err != nil {
			return err
		}
		defer closeSrv()
		sdk = &benchSide{name: "bare SDK echo", client: &wxsim.Client{URL: url, Token: token, AppID: appID, AESKey: key, Account: "gh_bench", Mode: wxsim.Safe}}
		sides = append([]*benchSide{sdk}, sides...)
	}
	if *floor {
		url, closeSrv, err := serveLoopback(ctx, bareHTTPHandler())
		if err != nil {
			return err
		}
		defer closeSrv()
		sides = append([]*benchSide{{name: "bare net/http", client: &wxsim.Client{URL: url, Token: "floor", AppID: "wxfloor", AESKey: wxsim.NewAESKey(), Account: "gh_bench", Mode: wxsim.Safe}}}, sides...)
	}
	rdbAddr := rdb.Options().Addr
	messages := *conversations * wxsim.ReportSteps
	fmt.Fprintf(stdout, "lianxin bench: %d senders, %d conversations (%d messages) per round, %d rounds per server, AES mode, report-conversation mix\n",
		*senders, *conversations, messages, *rounds)
	// Warm up connections, caches and Redis's script cache on every side.
	for _, s := range sides {
		wxsim.Load(ctx, s.client, wxsim.ReportScript{Prefix: "w" + randomHex(3), Strict: s.strict}, *senders, *senders*wxsim.ReportSteps)
	}
	for _, s := range sides {
		if s.cases != nil {
			s.casesBefore, _ = s.cases(ctx)
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() { pprof.StopCPUProfile(); f.Close() }()
	}
	if *memprofile != "" {
		// Count every allocation of the measured rounds, and only those.
		runtime.MemProfileRate = 1 << 12
		runtime.GC()
		defer func() {
			f, err := os.Create(*memprofile)
			if err == nil {
				pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	for r := 0; r < *rounds && ctx.Err() == nil; r++ {
		for _, s := range sides {
			cpu0, redis0 := processCPU(), redisCPU(ctx, rdbAddr)
			st := wxsim.Load(ctx, s.client, wxsim.ReportScript{Prefix: fmt.Sprintf("r%d%s", r, randomHex(3)), Strict: s.strict}, *senders, messages)
			s.cpu += processCPU() - cpu0
			s.redisCPU += redisCPU(ctx, rdbAddr) - redis0
			s.msgs += st.Messages
			s.rounds = append(s.rounds, st)
			fmt.Fprintf(stderr, "  round %d %-22s %7.0f msg/s  p99 %s  errors %d\n", r+1, s.name, st.PerSecond(), st.P99.Round(10*time.Microsecond), st.Errors)
			if s == ph {
				// The next server's round must not share the cores with
				// this one's photos: wait until every photo is stored.
				photos := *conversations * 2 * (r + 1)
				t0 := time.Now()
				if err := waitPhotosStored(ctx, s.url, photos+*senders*2); err != nil {
					return err
				}
				fmt.Fprintf(stderr, "    photos stored %d s after the round ended\n", int(time.Since(t0).Seconds()))
			}
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "server\tmsg/s\tp50\tp99\tmax\terrors\tCPU/msg\tRedis CPU/msg\tcases\t")
	for _, s := range sides {
		m := s.median()
		cases := "-"
		if s.cases != nil {
			n, err := s.cases(ctx)
			if err != nil {
				return err
			}
			cases = fmt.Sprintf("%d/%d", n-s.casesBefore, *conversations*len(s.rounds))
		}
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t\n", s.name, m.PerSecond(), ms(m.P50), ms(m.P99), ms(m.Max), m.Errors,
			perMsg(s.cpu, s.msgs), perMsg(s.redisCPU, s.msgs), cases)
	}
	tw.Flush()
	if lx.svc != nil {
		printPhases(stdout, lx.url)
		ws := lx.svc.DB.WriterStats()
		if g := ws.Groups.Load(); g > 0 {
			fmt.Fprintf(stdout, "  %s writes: %d groups (transactions), %.1f writes per group, exec %.2fms and commit %.2fms per group, %d fsyncs\n",
				lx.svc.DB.Engine(), g, float64(ws.Writes.Load())/float64(g), float64(ws.ExecNanos.Load())/float64(g)/1e6, float64(ws.CommitNanos.Load())/float64(max(ws.Commits.Load(), 1))/1e6, ws.Syncs.Load())
		}
	}
	ours := lx.median()
	for _, peer := range []*benchSide{ob, sdk} {
		if peer != nil {
			p := peer.median()
			fmt.Fprintf(stdout, "lianxin ÷ %s: %.2f× throughput, p99 %.2f× (lower is better)\n",
				peer.name, ours.PerSecond()/p.PerSecond(), float64(ours.P99)/float64(p.P99))
		}
	}
	if ph != nil {
		m := ph.median()
		fmt.Fprintf(stdout, "photos processed during the load ÷ no photos: %.2f× throughput, p99 %.2f× (target: ≥ 0.8×, ≤ 1.5×)\n",
			m.PerSecond()/ours.PerSecond(), float64(m.P99)/float64(ours.P99))
	}
	for _, s := range sides[1:] {
		if s.name != lx.name && s != ph && strings.HasPrefix(s.name, "lianxin,") {
			m := s.median()
			fmt.Fprintf(stdout, "%s ÷ empty register: %.2f× throughput, p99 %.2f×\n", s.name, m.PerSecond()/ours.PerSecond(), float64(m.P99)/float64(ours.P99))
		}
	}
	return nil
}

// startLianxin runs an in-process lianxin on its own database under dir,
// with no WeChat API (this measures the webhook path).
func startLianxin(ctx context.Context, cfg configs.Config, dir, name string, log *slog.Logger) (*benchSide, error) {
	cfg.WeChat.AppSecret = ""
	return startLianxinWith(ctx, cfg, dir, name, log)
}

// startLianxinWith runs an in-process lianxin on its own database under dir
// (or the PostgreSQL database -db names) with cfg's WeChat API settings.
func startLianxinWith(ctx context.Context, cfg configs.Config, dir, name string, log *slog.Logger) (*benchSide, error) {
	if !store.IsPostgres(cfg.DBPath) {
		cfg.DBPath = filepath.Join(dir, "lianxin.db")
	}
	cfg.DataDir = dir
	// Every bench resident files the same report at the same place: with
	// «me too» on, all but the first would be offered to join the first
	// (同一件) instead of ending in a case of their own.
	cfg.MeToo.RadiusM = 0
	cfg.WeChat.AppID, cfg.WeChat.Token, cfg.WeChat.AESKey, cfg.WeChat.AESKeyPrev = "wxbench"+randomHex(5), "bench-"+randomHex(8), wxsim.NewAESKey(), ""
	svc, err := service.New(ctx, cfg, log, service.Options{})
	if err != nil {
		return nil, err
	}
	wctx, stop := context.WithCancel(ctx)
	wait := svc.Start(wctx)
	url, closeSrv, err := serveLoopback(ctx, svc.Handler())
	if err != nil {
		stop()
		wait()
		svc.Close()
		return nil, err
	}
	side := &benchSide{name: name, strict: true, svc: svc, url: url, client: &wxsim.Client{URL: url + "/wechat", Token: cfg.WeChat.Token,
		AppID: cfg.WeChat.AppID, AESKey: cfg.WeChat.AESKey, Account: "gh_bench", Mode: wxsim.Safe}}
	side.cases = func(ctx context.Context) (int, error) {
		cs, err := svc.DB.Cases(ctx, lianxin.CaseFilter{})
		return len(cs), err
	}
	side.close = func() {
		closeSrv()
		stop()
		wait()
		cleanRedis(svc, cfg)
		svc.Close()
	}
	return side, nil
}

// startLianxinWithPhotos runs a lianxin with the WeChat API: a fake one
// serving every photo the load sends as a resident's phone photo (mostly
// 1440×1080 as WeChat compresses them, some taken sideways, some originals
// at 4032×3024), which the media worker fetches, cleans and stores while
// the load runs.
func startLianxinWithPhotos(ctx context.Context, cfg configs.Config, dir string, log *slog.Logger) (*benchSide, error) {
	pics := [][]byte{
		photos.Camera(1440, 1080, 1, 1), photos.Camera(1440, 1080, 1, 2), photos.Camera(1440, 1080, 6, 3),
		photos.Camera(1080, 1440, 1, 4), photos.Camera(4032, 3024, 1, 5),
	}
	fw := fakewx.New(fakewx.Options{MediaFallback: func(id string) (string, []byte, bool) {
		h := fnv.New32a()
		h.Write([]byte(id))
		return "image/jpeg", pics[h.Sum32()%uint32(len(pics))], true
	}})
	if err := fw.Start(); err != nil {
		return nil, err
	}
	cfg.WeChat.APIBase, cfg.WeChat.AppSecret = fw.URL(), "bench-secret"
	side, err := startLianxinWith(ctx, cfg, dir, "lianxin, photos processed", log)
	if err != nil {
		fw.Close()
		return nil, err
	}
	closeSvc := side.close
	side.close = func() { closeSvc(); fw.Close() }
	return side, nil
}

// waitPhotosStored waits until the server's media worker has stored n
// photos (its lianxin_media_attempts_total{outcome="stored"}), up to ten
// minutes.
func waitPhotosStored(ctx context.Context, base string, n int) error {
	deadline := time.Now().Add(10 * time.Minute)
	for {
		if stored := metricSum(base, `lianxin_media_attempts_total{outcome="stored"}`); stored >= float64(n) {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("photos not stored in ten minutes (want %d)", n)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// metricSum reads one sample of the server's /metrics.
func metricSum(base, sample string) float64 {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, sample+" "); ok {
			var v float64
			fmt.Sscan(rest, &v)
			return v
		}
	}
	return 0
}

// startObvious runs the obvious report bot on the SDK against the same Redis.
func startObvious(ctx context.Context, rdb *redis.Client, dbPath string, log *slog.Logger) (*benchSide, error) {
	key, token, appID := wxsim.NewAESKey(), "bench-"+randomHex(8), "wxobvious"+randomHex(4)
	prefix := "lxbench:obvious:" + randomHex(4) + ":"
	bot, err := obviousbot.New(ctx, obviousbot.Config{AppID: appID, Token: token, AESKey: key, Redis: rdb, KeyPrefix: prefix, DBPath: dbPath, Log: log})
	if err != nil {
		return nil, err
	}
	url, closeSrv, err := serveLoopback(ctx, bot)
	if err != nil {
		bot.Close()
		return nil, err
	}
	side := &benchSide{name: "obvious SDK bot", strict: true, client: &wxsim.Client{URL: url, Token: token, AppID: appID, AESKey: key, Account: "gh_bench", Mode: wxsim.Safe}}
	side.cases = bot.Cases
	side.close = func() {
		closeSrv()
		bot.Close()
		deleteKeys(rdb, prefix+"*")
	}
	return side, nil
}

// preloadRegister registers n cases as the report flow would (routed to
// the stations' deputies, most of them long closed), concurrently so the
// writer's group commit makes it quick.
func preloadRegister(ctx context.Context, svc *service.Service, n int) error {
	data := svc.Data()
	units := data.Directory.Stations
	num := lianxin.CaseNumbering{Prefix: svc.Config.CasePrefix, Location: svc.Config.Location()}
	const workers = 32
	errc := make(chan error, workers)
	for w := 0; w < workers; w++ {
		go func() {
			for i := w; i < n; i += workers {
				unit := units[i%len(units)]
				cat := data.Categories[i%len(data.Categories)]
				deputies := data.Directory.DeputiesOf(unit.ID)
				r := lianxin.Report{SourceKey: fmt.Sprintf("preload:%d", i), OpenID: fmt.Sprintf("oPreload%06d", i%20000), Category: cat,
					Description: "预置的历史反映,用于测量登记簿大小对速度的影响", StationID: unit.ID,
					Location: lianxin.Location{Lat: 37.856, Lng: 113.5726}}
				assign := func(v lianxin.AssignView, number string) (lianxin.Assignment, error) {
					if len(deputies) == 0 {
						return lianxin.Assignment{NeedsStaff: true}, nil
					}
					return lianxin.Assignment{AssigneeID: deputies[i%len(deputies)].ID}, nil
				}
				c, _, err := svc.DB.CreateCase(ctx, num, r, []lianxin.Event{{Type: lianxin.EventCreated, Actor: "resident"}}, nil, assign)
				if err != nil {
					errc <- err
					return
				}
				if i%10 != 0 { // nine in ten are closed, as in a register a few years old
					if _, err := svc.DB.Transition(ctx, lianxin.Transition{CaseID: c.ID, Status: lianxin.StatusResolved,
						Events: []lianxin.Event{{Type: lianxin.EventResolved, Actor: "system"}}}); err != nil {
						errc <- err
						return
					}
				}
			}
			errc <- nil
		}()
	}
	for w := 0; w < workers; w++ {
		if err := <-errc; err != nil {
			return err
		}
	}
	return nil
}

// printPhases shows the mean time per phase from the server's metrics.
func printPhases(w io.Writer, base string) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	sums, counts := map[string]float64{}, map[string]float64{}
	for _, line := range strings.Split(string(b), "\n") {
		for _, kind := range []string{"_sum", "_count"} {
			prefix := "lianxin_webhook_phase_duration_seconds" + kind + `{phase="`
			if rest, ok := strings.CutPrefix(line, prefix); ok {
				phase, val, _ := strings.Cut(rest, `"} `)
				var v float64
				fmt.Sscan(val, &v)
				if kind == "_sum" {
					sums[phase] = v
				} else {
					counts[phase] = v
				}
			}
		}
	}
	for _, phase := range []string{"conversation", "admit", "step", "commit", "journal"} {
		if counts[phase] > 0 {
			fmt.Fprintf(w, "  mean %-12s %.2fms\n", phase, sums[phase]/counts[phase]*1000)
		}
	}
}

// processCPU is the CPU time this process has used (user and system).
func processCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// redisCPU is the CPU time the Redis server has used, from INFO cpu.
func redisCPU(ctx context.Context, addr string) time.Duration {
	if addr == "" {
		return 0
	}
	c := redis.NewClient(&redis.Options{Addr: addr})
	defer c.Close()
	info, err := c.Info(ctx, "cpu").Result()
	if err != nil {
		return 0
	}
	var total float64
	for _, line := range strings.Split(info, "\r\n") {
		for _, k := range []string{"used_cpu_sys:", "used_cpu_user:"} {
			if v, ok := strings.CutPrefix(line, k); ok {
				var f float64
				fmt.Sscan(v, &f)
				total += f
			}
		}
	}
	return time.Duration(total * float64(time.Second))
}

func perMsg(d time.Duration, n int) string {
	if n == 0 || d == 0 {
		return "-"
	}
	return fmt.Sprintf("%dµs", (d / time.Duration(n)).Microseconds())
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }

// cleanRedis removes the bench's keys (its own app id prefix).
func cleanRedis(svc *service.Service, cfg configs.Config) {
	deleteKeys(svc.Redis, service.RedisPrefix(cfg)+"*")
}

// deleteKeys removes the keys matching pattern.
func deleteKeys(rdb *redis.Client, pattern string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := rdb.Scan(ctx, 0, pattern, 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 500 {
			rdb.Del(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		rdb.Del(ctx, keys...)
	}
}
