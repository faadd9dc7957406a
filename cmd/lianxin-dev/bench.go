package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
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
	"github.com/lianxin/lianxin/internal/service"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
	"github.com/lianxin/lianxin/store"
)

// reportScript plays each sender as a resident filing reports one after
// another: 报事, category, description, two photos, 完成, a location, no
// phone, 确认 — nine messages a conversation.
type reportScript struct {
	prefix string
	// strict checks that every conversation ends in a registered case
	// (lianxin); the baseline only echoes, so it is checked for HTTP 200.
	strict bool
}

const reportSteps = 9

func (s reportScript) user(w int) string { return fmt.Sprintf("o%sreport%05d", s.prefix, w) }

func (s reportScript) Next(w, i int) wxsim.Message {
	u := s.user(w)
	switch i % reportSteps {
	case 0:
		return wxsim.Text(u, "报事")
	case 1:
		return wxsim.Text(u, "2")
	case 2:
		return wxsim.Text(u, "3号楼2单元暖气一直不热,屋里才十四五度,老人受不了")
	case 3, 4:
		id := fmt.Sprintf("BENCH_%s_%d", u, i)
		return wxsim.Image(u, id, "http://mmbiz.qpic.cn/"+id)
	case 5:
		return wxsim.Text(u, "完成")
	case 6:
		return wxsim.Location(u, 37.8560, 113.5726, "阳泉市矿区水滩社区3号楼")
	case 7:
		return wxsim.Text(u, "跳过")
	}
	return wxsim.Text(u, "确认")
}

func (s reportScript) Check(w, i int, m wxsim.Message, r *wxsim.Reply) error {
	if r.Status != 200 {
		return fmt.Errorf("step %d: HTTP %d", i%reportSteps, r.Status)
	}
	if !s.strict {
		return nil
	}
	if r.Content == "" {
		return fmt.Errorf("step %d: empty reply", i%reportSteps)
	}
	if i%reportSteps == reportSteps-1 && !strings.Contains(r.Content, "提交成功") {
		return fmt.Errorf("confirm: %q", r.Content)
	}
	return nil
}

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
	rounds []wxsim.LoadStats
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
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the measured rounds to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	// Whole conversations for every sender.
	*conversations = (*conversations + *senders - 1) / *senders * *senders
	if *senders < 1 || *conversations < 1 || *rounds < 1 {
		return errors.New("-senders, -conversations and -rounds must be at least 1")
	}
	cfg, err := configs.Load(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	var lx *benchSide
	var db *store.DB
	var lxURL string   // the in-process server, for its phase metrics
	var rdbAddr string // the Redis the in-process server uses, for its CPU
	if *target != "" {
		if cfg.WeChat.AESKey == "" || cfg.WeChat.Token == "" {
			return errors.New("-target needs LIANXIN_WECHAT_TOKEN, LIANXIN_WECHAT_APPID and LIANXIN_WECHAT_AESKEY of that server")
		}
		lx = &benchSide{name: "lianxin (" + *target + ")", strict: true, client: &wxsim.Client{URL: *target, Token: cfg.WeChat.Token,
			AppID: cfg.WeChat.AppID, AESKey: cfg.WeChat.AESKey, Account: "gh_bench", Mode: wxsim.Safe}}
	} else {
		dir, err := os.MkdirTemp("", "lianxin-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		cfg.DBPath, cfg.DataDir = filepath.Join(dir, "lianxin.db"), dir
		cfg.WeChat.AppID, cfg.WeChat.Token, cfg.WeChat.AESKey, cfg.WeChat.AESKeyPrev = "wxbench"+randomHex(5), "bench-"+randomHex(8), wxsim.NewAESKey(), ""
		cfg.WeChat.AppSecret = "" // no WeChat API calls: this measures the webhook path
		log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelError}))
		svc, err := service.New(ctx, cfg, log, service.Options{})
		if err != nil {
			return err
		}
		defer svc.Close()
		defer cleanRedis(svc, cfg)
		wctx, stop := context.WithCancel(ctx)
		wait := svc.Start(wctx)
		defer func() { stop(); wait() }()
		url, closeSrv, err := serveLoopback(ctx, svc.Handler())
		if err != nil {
			return err
		}
		defer closeSrv()
		db = svc.DB
		lxURL = url
		rdbAddr = svc.Redis.Options().Addr
		lx = &benchSide{name: "lianxin", strict: true, client: &wxsim.Client{URL: url + "/wechat", Token: cfg.WeChat.Token,
			AppID: cfg.WeChat.AppID, AESKey: cfg.WeChat.AESKey, Account: "gh_bench", Mode: wxsim.Safe}}
	}
	sides := []*benchSide{lx}
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
	messages := *conversations * reportSteps
	fmt.Fprintf(stdout, "lianxin bench: %d senders, %d conversations (%d messages) per round, %d rounds per server, AES mode, report-conversation mix\n",
		*senders, *conversations, messages, *rounds)
	// Warm up connections, caches and Redis's script cache on both sides.
	for _, s := range sides {
		wxsim.Load(ctx, s.client, reportScript{prefix: "w" + randomHex(3), strict: s.strict}, *senders, *senders*reportSteps)
	}
	casesBefore := 0
	if db != nil {
		cs, _ := db.Cases(ctx, lianxin.CaseFilter{})
		casesBefore = len(cs)
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
	for r := 0; r < *rounds && ctx.Err() == nil; r++ {
		for _, s := range sides {
			cpu0, redis0 := processCPU(), redisCPU(ctx, rdbAddr)
			st := wxsim.Load(ctx, s.client, reportScript{prefix: fmt.Sprintf("r%d%s", r, randomHex(3)), strict: s.strict}, *senders, messages)
			s.cpu += processCPU() - cpu0
			s.redisCPU += redisCPU(ctx, rdbAddr) - redis0
			s.msgs += st.Messages
			s.rounds = append(s.rounds, st)
			fmt.Fprintf(stderr, "  round %d %-14s %7.0f msg/s  p99 %s  errors %d\n", r+1, s.name, st.PerSecond(), st.P99.Round(10*time.Microsecond), st.Errors)
		}
	}
	tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "server\tmsg/s\tp50\tp99\tmax\terrors\tCPU/msg\tRedis CPU/msg\t")
	for _, s := range sides {
		m := s.median()
		fmt.Fprintf(tw, "%s\t%.0f\t%s\t%s\t%s\t%d\t%s\t%s\t\n", s.name, m.PerSecond(), ms(m.P50), ms(m.P99), ms(m.Max), m.Errors,
			perMsg(s.cpu, s.msgs), perMsg(s.redisCPU, s.msgs))
	}
	tw.Flush()
	if db != nil {
		cs, err := db.Cases(ctx, lianxin.CaseFilter{})
		if err != nil {
			return err
		}
		want := *conversations * len(lx.rounds)
		fmt.Fprintf(stdout, "cases created: %d of %d conversations\n", len(cs)-casesBefore, want)
	}
	if lxURL != "" {
		printPhases(stdout, lxURL)
		ws := db.WriterStats()
		if g := ws.Groups.Load(); g > 0 {
			fmt.Fprintf(stdout, "  sqlite writer: %d groups, %.1f writes per group, exec %.2fms and commit %.2fms per group\n",
				g, float64(ws.Writes.Load())/float64(g), float64(ws.ExecNanos.Load())/float64(g)/1e6, float64(ws.CommitNanos.Load())/float64(max(ws.Commits.Load(), 1))/1e6)
		}
	}
	if sdk != nil {
		base, ours := sdk.median(), lx.median()
		fmt.Fprintf(stdout, "ratio to the bare SDK: %.2f× throughput, p99 %.2f× (lower is better)\n",
			ours.PerSecond()/base.PerSecond(), float64(ours.P99)/float64(base.P99))
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
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	iter := svc.Redis.Scan(ctx, 0, service.RedisPrefix(cfg)+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
		if len(keys) == 500 {
			svc.Redis.Del(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		svc.Redis.Del(ctx, keys...)
	}
}
