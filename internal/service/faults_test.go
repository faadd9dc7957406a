package service_test

import (
	"bufio"
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
	"github.com/lianxin/lianxin/store"
)

// The fault suite: each test puts the service under a fault a deployment
// meets (Redis restarted, serve killed, the database locked, WeChat's API
// failing, two processes at once) and checks that residents lose nothing and
// nothing happens twice. Each logs what the fault did to latency and what was
// retried (go test -v -run Fault).

func TestMain(m *testing.M) {
	// Re-executed as a helper process that holds the SQLite write lock.
	if path := os.Getenv("LIANXIN_TEST_HOLD_SQLITE_LOCK"); path != "" {
		holdSQLiteLock(path)
		return
	}
	os.Exit(m.Run())
}

// holdSQLiteLock takes the database's write lock, says so on stdout, and
// keeps it until stdin closes.
func holdSQLiteLock(path string) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	conn, err := db.Conn(context.Background())
	if err == nil {
		_, err = conn.ExecContext(context.Background(), "BEGIN EXCLUSIVE")
	}
	if err != nil {
		fmt.Println("error", err)
		os.Exit(1)
	}
	fmt.Println("locked")
	io.Copy(io.Discard, os.Stdin)
	conn.ExecContext(context.Background(), "COMMIT")
	os.Exit(0)
}

// waitFor checks cond every few milliseconds until it holds, failing the
// test after timeout. It is for background work the test cannot be told
// about (a client reconnecting on its own schedule).
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(timeout)
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// latencies collects reply times by phase of a fault.
type latencies struct {
	mu sync.Mutex
	by map[string][]time.Duration
}

func (l *latencies) add(phase string, d time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.by == nil {
		l.by = map[string][]time.Duration{}
	}
	l.by[phase] = append(l.by[phase], d)
}

func (l *latencies) report(t *testing.T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	phases := make([]string, 0, len(l.by))
	for p := range l.by {
		phases = append(phases, p)
	}
	sort.Strings(phases)
	for _, p := range phases {
		d := append([]time.Duration(nil), l.by[p]...)
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		t.Logf("  %-14s %4d replies  p50 %-9s p99 %-9s max %s", p, len(d), d[len(d)/2].Round(10*time.Microsecond),
			d[len(d)*99/100].Round(10*time.Microsecond), d[len(d)-1].Round(10*time.Microsecond))
	}
}

// reportSteps of one conversation, as sent.
var faultSteps = []string{"报事", "2", "3号楼2单元暖气一直不热,屋里才十四五度", "跳过", "水滩社区3号楼", "跳过", "确认"}

// journalOutcomes counts the journal's entries by outcome.
func journalOutcomes(t *testing.T, ts *testService, users []string) map[string]int {
	out := map[string]int{}
	for _, u := range users {
		rows, err := ts.DB.Transcript(context.Background(), u, 10000)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			out[string(r.Outcome)]++
		}
	}
	return out
}

func casesOf(t *testing.T, ts *testService, users []string) int {
	n := 0
	for _, u := range users {
		cs, err := ts.DB.Cases(context.Background(), lianxin.CaseFilter{OpenID: u})
		if err != nil {
			t.Fatal(err)
		}
		n += len(cs)
	}
	return n
}

// TestFaultRedisRestartedUnderLoad: residents are filing reports when Redis
// stops, and starts again (with its append-only file). Messages meanwhile are
// journaled and acknowledged; afterwards they are replayed in order, the
// drafts carry on, and every conversation ends in a case.
func TestFaultRedisRestartedUnderLoad(t *testing.T) {
	redisSrv := testenv.StartRedisServer(t)
	cfg := testConfig(t)
	cfg.RedisURL = "redis://" + redisSrv.Addr() + "/0"
	ts := startService(t, cfg)
	c := ts.Client(wxsim.Safe)
	const residents, rounds = 8, 4
	var users []string
	for i := range residents {
		users = append(users, fmt.Sprintf("oFaultRedis%08d", i))
	}
	var sent atomic.Int64
	stopAt, restartAt := int64(residents*len(faultSteps)), int64(2*residents*len(faultSteps))
	reachedStop, reachedRestart := make(chan struct{}), make(chan struct{})
	var phase atomic.Value
	phase.Store("before")
	lat := &latencies{}
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				for _, step := range faultSteps {
					switch sent.Add(1) {
					case stopAt:
						close(reachedStop)
					case restartAt:
						close(reachedRestart)
					}
					r, err := c.Send(context.Background(), wxsim.Text(u, step))
					if err != nil || r.Status != 200 {
						t.Errorf("%s %q: %v %+v", u, step, err, r)
						return
					}
					lat.add(phase.Load().(string), r.Latency)
				}
			}
		}()
	}
	// Redis stops after a conversation's worth of messages per resident, and
	// starts again after another.
	<-reachedStop
	redisSrv.Stop()
	phase.Store("redis down")
	<-reachedRestart
	redisSrv.Restart()
	phase.Store("after restart")
	wg.Wait()
	// Whatever is still deferred is replayed now that Redis is back (the
	// client notices within a second: it probes a refusing Redis that often).
	waitFor(t, 10*time.Second, "the backlog to be replayed", func() bool {
		return ts.Replayer.Pass(context.Background()) == nil
	})
	outcomes := journalOutcomes(t, ts, users)
	total := 0
	for _, n := range outcomes {
		total += n
	}
	if total != residents*rounds*len(faultSteps) {
		t.Errorf("journal has %d messages, %d were sent", total, residents*rounds*len(faultSteps))
	}
	if outcomes["deferred"] != 0 || outcomes["received"] != 0 {
		t.Errorf("messages never applied: %v", outcomes)
	}
	if got := casesOf(t, ts, users); got != residents*rounds {
		t.Errorf("%d cases for %d conversations; outcomes %v", got, residents*rounds, outcomes)
		for _, u := range users {
			if casesOf(t, ts, []string{u}) == rounds {
				continue
			}
			rows, _ := ts.DB.Transcript(context.Background(), u, 1000)
			for _, r := range rows {
				t.Logf("%s %-9s %s -> %s", u, r.Outcome, r.Content, clipRunes(strings.ReplaceAll(r.Reply, "\n", " "), 40))
			}
		}
	}
	t.Logf("Redis restarted under load (real redis-server: %v): %d messages, outcomes %v", redisSrv.Real(), total, outcomes)
	lat.report(t)
}

// TestFaultSQLiteLockedByAnotherProcess: another process holds the
// database's write lock for two seconds while residents write. Replies wait
// for the journal, but still leave inside WeChat's five seconds, and nothing
// is lost.
func TestFaultSQLiteLockedByAnotherProcess(t *testing.T) {
	cfg := testConfig(t)
	ts := startService(t, cfg)
	c := ts.Client(wxsim.Safe)
	holder := exec.Command(os.Args[0], "-test.run=^$")
	holder.Env = append(os.Environ(), "LIANXIN_TEST_HOLD_SQLITE_LOCK="+cfg.DBPath)
	stdin, _ := holder.StdinPipe()
	stdout, _ := holder.StdoutPipe()
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	line, _ := bufio.NewReader(stdout).ReadString('\n')
	if strings.TrimSpace(line) != "locked" {
		t.Fatalf("lock holder: %q", line)
	}
	release := time.AfterFunc(2*time.Second, func() { stdin.Close() }) // the other process's transaction lasts 2 s
	defer release.Stop()
	lat := &latencies{}
	var users []string
	var wg sync.WaitGroup
	for i := range 10 {
		u := fmt.Sprintf("oFaultLock%08d", i)
		users = append(users, u)
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.Send(context.Background(), wxsim.Text(u, "帮助"))
			if err != nil || r.Status != 200 || !strings.Contains(r.Content, "使用帮助") {
				t.Errorf("%s: %v %+v", u, err, r)
				return
			}
			lat.add("locked 2s", r.Latency)
			if r.Latency >= 5*time.Second {
				t.Errorf("%s: reply after %s, past WeChat's 5 s", u, r.Latency)
			}
		}()
	}
	wg.Wait()
	holder.Wait()
	for _, u := range users {
		lat.add("after", send(t, c, wxsim.Text(u, "菜单")).Latency)
	}
	if got := journalOutcomes(t, ts, users); got["replied"] != 20 {
		t.Errorf("journal: %v, want 20 replied", got)
	}
	t.Logf("SQLite write lock held by another process for 2 s:")
	lat.report(t)
}

// TestFaultWeChatAPIFailing30Percent: WeChat's send API fails three sends in
// ten; every notification still arrives, exactly once.
func TestFaultWeChatAPIFailing30Percent(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	ts := startService(t, cfg)
	c := ts.Client(wxsim.Safe)
	const deputy = "oFaultAPIDeputy000000001"
	bindDeputy(t, ts, c, deputy, "d-st-02")
	fw.SetFailRate(fakewx.PathCustomSend, 0.3)
	var residents []string
	for i := range 10 {
		u := fmt.Sprintf("oFaultAPIResident%07d", i)
		residents = append(residents, u)
		n := ts.ReportCase(t, u)
		// Progress leaves the case waiting to be accepted, so the 【新反映】
		// stays worth sending however late it gets through.
		mustContain(t, say(t, c, deputy, "进展 "+n+" 明天上门"), "已记下进展")
	}
	for i, u := range residents {
		_ = i
		waitSent(t, fw, u, "明天上门")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := fw.WaitSent(ctx, func(s []fakewx.Sent) bool {
		n := 0
		for _, x := range s {
			if x.To == deputy && strings.Contains(x.Text, "新反映") {
				n++
			}
		}
		return n == 10
	}); err != nil {
		t.Fatalf("deputy notifications: %v", err)
	}
	seen := map[string]int{}
	for _, s := range fw.Sent() {
		seen[s.To+"|"+s.Text]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("delivered %d times: %s", n, k)
		}
	}
	failed := 0
	for _, call := range fw.CallsTo(fakewx.PathCustomSend) {
		if call.Status >= 500 {
			failed++
		}
	}
	t.Logf("WeChat send API failing 30%%: %d notifications delivered once each, after %d failed attempts were retried", len(seen), failed)
}

// TestFaultTwoProcessesBehindOneRedis: two serve processes share Redis and
// the database; WeChat spreads messages and retries over both. Nothing is
// applied twice and no notification is sent twice.
func TestFaultTwoProcessesBehindOneRedis(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	a := startService(t, cfg)
	b := startService(t, cfg)
	const deputy = "oFaultTwoDeputy000000001"
	bindDeputy(t, a, a.Client(wxsim.Safe), deputy, "d-st-02")
	const residents = 6
	var users []string
	var wg sync.WaitGroup
	var unique atomic.Int64
	appliedBefore := a.Dispatcher.Applied() + b.Dispatcher.Applied()
	lat := &latencies{}
	for i := range residents {
		u := fmt.Sprintf("oFaultTwo%010d", i)
		users = append(users, u)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j, step := range append(append([]string{}, faultSteps...), faultSteps...) {
				req, err := a.Client(wxsim.Safe).Build(wxsim.Text(u, step))
				if err != nil {
					t.Error(err)
					return
				}
				unique.Add(1)
				// WeChat retries a slow answer: the same request goes to both processes.
				var replies [2]*wxsim.Reply
				var inner sync.WaitGroup
				for k, ts := range []*testService{a, b} {
					inner.Add(1)
					go func() {
						defer inner.Done()
						r, err := ts.Client(wxsim.Safe).Do(context.Background(), req)
						if err != nil {
							t.Error(err)
							return
						}
						replies[k] = r
					}()
				}
				inner.Wait()
				if replies[0] == nil || replies[1] == nil || replies[0].Content != replies[1].Content {
					t.Errorf("%s step %d: the two copies got different replies", u, j)
					return
				}
				lat.add("two processes", replies[j%2].Latency)
			}
		}()
	}
	wg.Wait()
	if got := a.Dispatcher.Applied() + b.Dispatcher.Applied() - appliedBefore; got != unique.Load() {
		t.Errorf("%d messages applied for %d sent (each twice)", got, unique.Load())
	}
	if got := casesOf(t, a, users); got != 2*residents {
		t.Errorf("%d cases, want %d", got, 2*residents)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := fw.WaitSent(ctx, func(s []fakewx.Sent) bool { return len(s) >= 2*residents }); err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, s := range fw.Sent() {
		seen[s.To+"|"+s.Text]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("notification sent %d times: %s", n, k)
		}
	}
	t.Logf("two processes, every request sent to both: %d messages applied once each, %d notifications sent once each", unique.Load(), len(seen))
	lat.report(t)
}

// TestFaultServeKilledAndRestarted kills `lianxin serve` with SIGKILL in the
// middle of a resident's report and starts it again: the resident carries
// on where they were, and the message WeChat retried is applied once.
func TestFaultServeKilledAndRestarted(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "lianxin")
	build := exec.Command("go", "build", "-o", bin, "github.com/lianxin/lianxin/cmd/lianxin")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	cfg := testConfig(t)
	env := append(os.Environ(),
		"LIANXIN_ADDR=127.0.0.1:0", "LIANXIN_CONFIG="+t.TempDir(), "LIANXIN_DB="+cfg.DBPath, "LIANXIN_DATA_DIR="+cfg.DataDir,
		"LIANXIN_REDIS_URL="+cfg.RedisURL, "LIANXIN_WECHAT_APPID="+cfg.WeChat.AppID, "LIANXIN_WECHAT_TOKEN="+cfg.WeChat.Token,
		"LIANXIN_WECHAT_AESKEY="+cfg.WeChat.AESKey)
	start := func() (*exec.Cmd, string) {
		cmd := exec.Command(bin, "serve")
		cmd.Env = env
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		addr := make(chan string, 1)
		go func() {
			re := regexp.MustCompile(`lianxin serving" addr=(\S+)`)
			sc := bufio.NewScanner(stderr)
			for sc.Scan() {
				if m := re.FindStringSubmatch(sc.Text()); m != nil {
					addr <- m[1]
				}
			}
		}()
		select {
		case a := <-addr:
			return cmd, a
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			t.Fatal("serve did not start")
		}
		return nil, ""
	}
	client := func(addr string) *wxsim.Client {
		return &wxsim.Client{URL: "http://" + addr + "/wechat", Token: cfg.WeChat.Token, AppID: cfg.WeChat.AppID,
			AESKey: cfg.WeChat.AESKey, Account: "gh_killed", Mode: wxsim.Safe}
	}
	const user = "oFaultKilled0000000001"
	proc, addr := start()
	c := client(addr)
	for _, step := range faultSteps[:3] {
		say(t, c, user, step)
	}
	// The next message is on its way when the process dies.
	pending, err := c.Build(wxsim.Text(user, "跳过"))
	if err != nil {
		t.Fatal(err)
	}
	proc.Process.Signal(syscall.SIGKILL)
	proc.Wait()
	if _, err := c.Do(context.Background(), pending); err == nil {
		t.Fatal("the killed process answered")
	}
	proc, addr = start()
	defer func() { proc.Process.Signal(syscall.SIGTERM); proc.Wait() }()
	c = client(addr)
	// WeChat retries the message that got no answer; it is applied once.
	r, err := c.Do(context.Background(), pending)
	if err != nil || r.Status != 200 || !strings.Contains(r.Content, "所在位置") {
		t.Fatalf("retry after restart: %v %+v", err, r)
	}
	r2, err := c.Do(context.Background(), pending)
	if err != nil || r2.Content != r.Content {
		t.Errorf("a second retry got a different reply: %+v", r2)
	}
	for _, step := range faultSteps[4:6] {
		say(t, c, user, step)
	}
	mustContain(t, say(t, c, user, "确认"), "提交成功")
	db, err := store.Open(context.Background(), cfg.DBPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	cs, _ := db.Cases(context.Background(), lianxin.CaseFilter{OpenID: user})
	entries, _ := db.Transcript(context.Background(), user, 100)
	if len(cs) != 1 || len(entries) != len(faultSteps) {
		t.Errorf("after a SIGKILL and restart: %d cases, %d journal entries (want 1 and %d)", len(cs), len(entries), len(faultSteps))
	}
	t.Logf("serve killed with SIGKILL after step 3 and restarted: the resident's draft survived, the retried message was applied once")
}
