package main

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lianxin/lianxin/internal/wxtest/photos"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/service"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
	"github.com/lianxin/lianxin/store"
)

// simOutput is sim's stdout, split into lines as they are written, so a test
// can wait for a line instead of sleeping.
type simOutput struct {
	mu      sync.Mutex
	lines   []string
	partial string // a line not finished yet, such as the prompt
	changed chan struct{}
}

func newSimOutput() *simOutput { return &simOutput{changed: make(chan struct{})} }

func (o *simOutput) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	parts := strings.Split(o.partial+string(p), "\n")
	o.lines = append(o.lines, parts[:len(parts)-1]...)
	o.partial = parts[len(parts)-1]
	close(o.changed)
	o.changed = make(chan struct{})
	return len(p), nil
}

func (o *simOutput) len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.lines)
}

func (o *simOutput) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return strings.Join(o.lines, "\n") + "\n" + o.partial
}

// wait returns the first finished line at index from or later that contains
// every fragment, waiting for it for up to 10 seconds.
func (o *simOutput) wait(t *testing.T, from int, fragments ...string) (int, string) {
	t.Helper()
	timeout := time.NewTimer(10 * time.Second)
	defer timeout.Stop()
	for {
		o.mu.Lock()
		for i := from; i < len(o.lines); i++ {
			ok := true
			for _, f := range fragments {
				ok = ok && strings.Contains(o.lines[i], f)
			}
			if ok {
				line := o.lines[i]
				o.mu.Unlock()
				return i, line
			}
		}
		ch := o.changed
		o.mu.Unlock()
		select {
		case <-ch:
		case <-timeout.C:
			t.Fatalf("sim printed no line containing %q after line %d; output:\n%s", fragments, from, o.String())
		}
	}
}

// simRun is a `lianxin sim` session driven through pipes.
type simRun struct {
	t      *testing.T
	in     *io.PipeWriter
	out    *simOutput
	stderr *logBuffer
	done   chan error
}

func startSim(t *testing.T, env map[string]string, args ...string) *simRun {
	t.Helper()
	inR, inW := io.Pipe()
	r := &simRun{t: t, in: inW, out: newSimOutput(), stderr: &logBuffer{}, done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		r.done <- cmdSim(ctx, args, func(k string) string { return env[k] }, inR, r.out, r.stderr)
	}()
	t.Cleanup(func() {
		cancel()
		inW.Close()
		select {
		case <-r.done:
		case <-time.After(10 * time.Second):
			t.Error("sim did not stop when cancelled")
		}
		if t.Failed() {
			t.Logf("sim output:\n%s\nsim stderr:\n%s", r.out, r.stderr)
		}
	})
	return r
}

// typeLine types a line and presses Enter.
func (r *simRun) typeLine(line string) {
	r.t.Helper()
	if _, err := io.WriteString(r.in, line+"\n"); err != nil {
		r.t.Fatalf("typing %q: %v", line, err)
	}
}

// say types a line and waits for a line of output after it containing every
// fragment.
func (r *simRun) say(line string, fragments ...string) (int, string) {
	r.t.Helper()
	from := r.out.len()
	r.typeLine(line)
	return r.out.wait(r.t, from, fragments...)
}

// quit types /quit and waits for sim to return.
func (r *simRun) quit() {
	r.t.Helper()
	r.typeLine("/quit")
	select {
	case err := <-r.done:
		r.done <- err // for the cleanup
		if err != nil {
			r.t.Fatalf("sim returned %v", err)
		}
	case <-time.After(15 * time.Second):
		r.t.Fatal("sim did not stop on /quit")
	}
}

// simEnv is a configuration of sim's own, isolated like testConfig: its
// SQLite file and data directory in temporary directories, its Redis keys
// under a prefix of its own (the app id).
func simEnv(t *testing.T) (env map[string]string, dbPath, dataDir string) {
	dir := t.TempDir()
	dbPath, dataDir = filepath.Join(dir, "lianxin.DB"), filepath.Join(dir, "data")
	return map[string]string{
		"LIANXIN_CONFIG":       t.TempDir(),
		"LIANXIN_DB":           dbPath,
		"LIANXIN_DATA_DIR":     dataDir,
		"LIANXIN_REDIS_URL":    testenv.RedisURL(t),
		"LIANXIN_WECHAT_APPID": "wx" + testenv.Prefix(t),
	}, dbPath, dataDir
}

// TestSimFakewx is the developer's one-terminal loop: sim -fakewx runs
// lianxin and the fake WeChat API; a deputy binds with /bind, a resident
// reports with a real photo file, the deputy's notification appears in the
// live view, and the photo travels the real media path: fetched with
// media/get and stored without its EXIF.
func TestSimFakewx(t *testing.T) {
	env, dbPath, dataDir := simEnv(t)
	photo := filepath.Join(t.TempDir(), "radiator.jpg")
	original := photos.JPEGWithGPS(640, 480, 37.8561, 113.5727) // the resident's home in its EXIF
	if err := os.WriteFile(photo, original, 0o644); err != nil {
		t.Fatal(err)
	}
	const (
		resident = "oSimResident000000000001"
		deputy   = "oSimDeputy00000000000001"
	)
	r := startSim(t, env, "-fakewx", "-db", dbPath, "-user", resident)
	_, webhook := r.out.wait(t, 0, "webhook", "http://127.0.0.1:")
	if !strings.HasSuffix(webhook, "/wechat") {
		t.Errorf("webhook line %q", webhook)
	}
	r.out.wait(t, 0, "fake WeChat API", "http://127.0.0.1:")
	r.out.wait(t, 0, "database", dbPath)

	// The deputy binds first, so the new case reaches them at once.
	r.typeLine("/as " + deputy)
	r.say("/bind d-st-02", "绑定成功", "郑示范")
	_, row := r.say("/deputies", "d-st-02")
	if !strings.Contains(row, "(you)") {
		t.Errorf("/deputies should show d-st-02 bound to the current user: %q", row)
	}

	r.typeLine("/as " + resident)
	r.say("/follow", "欢迎")
	r.say("报事", "【选择类别】")
	r.say("2", "【问题描述】")
	r.say("3号楼2单元暖气一直不热,屋里才十四五度", "【上传照片】")
	r.say("/photo "+photo, "已收到第1张照片")
	r.say("完成", "【所在位置】")
	r.say("/loc 37.8560 113.5726 水滩社区3号楼", "【联系电话】")
	r.say("13812345678", "【确认提交】")
	mark := r.out.len()
	_, line := r.say("确认", "提交成功")
	number := regexp.MustCompile(`KQ\d{8}-\d{4}`).FindString(line)
	if number == "" {
		t.Fatalf("no case number in %q", line)
	}

	// The live view: the deputy, named and with the openid masked, and what
	// they read.
	i, header := r.out.wait(t, mark, "⇢ custom → deputy d-st-02 郑示范")
	if !strings.Contains(header, lianxin.MaskOpenID(deputy)) || strings.Contains(header, deputy) {
		t.Errorf("live view header %q: want the deputy's openid masked", header)
	}
	r.out.wait(t, i+1, "【新反映】"+number)
	r.out.wait(t, i+1, "查看详情：http://127.0.0.1:")

	// The deputy opens the link in their notice: web authorisation through
	// the fake WeChat signs them in to the console, no password.
	r.typeLine("/as " + deputy)
	r.say("/open", "opened /console/cases/"+number, "HTTP 200")
	r.out.wait(t, 0, "暖气一直不热")
	r.quit()

	db, err := store.Open(context.Background(), dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	c, err := db.Case(context.Background(), number)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Attachments) != 1 {
		t.Fatalf("%d attachments, want the photo", len(c.Attachments))
	}
	a := c.Attachments[0]
	if a.Status != lianxin.AttachmentStored || a.Mime != "image/jpeg" {
		t.Fatalf("photo %s (%s) %q, want stored as image/jpeg", a.Status, a.Mime, a.Error)
	}
	stored, err := os.ReadFile(filepath.Join(dataDir, filepath.FromSlash(a.Path)))
	if err != nil {
		t.Fatal(err)
	}
	if !photos.HasEXIF(original) {
		t.Fatal("the test photo should carry EXIF")
	}
	if photos.HasEXIF(stored) || photos.HasGPS(stored) {
		t.Error("the stored photo still carries EXIF")
	}
}

// TestSimFakewxNeverTouchesARealDatabase: sim -fakewx on a machine where
// LIANXIN_DB names the real register runs on a database of its own,
// thrown away at the end; given a database with -db, it refuses one another
// process (a running serve) is using, and a serve refuses the one it uses.
func TestSimFakewxNeverTouchesARealDatabase(t *testing.T) {
	env, dbPath, dataDir := simEnv(t)
	r := startSim(t, env, "-fakewx")
	_, line := r.out.wait(t, 0, "database")
	r.say("/follow", "欢迎")
	r.say("报事", "【选择类别】")
	r.quit()
	if strings.Contains(line, dbPath) {
		t.Errorf("sim used LIANXIN_DB: %q", line)
	}
	for _, p := range []string{dbPath, dataDir} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Errorf("%s exists after sim -fakewx (%v)", p, err)
		}
	}
	throwaway := strings.Fields(strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line), "database")))[0]
	if _, err := os.Stat(throwaway); !os.IsNotExist(err) {
		t.Errorf("the throwaway database %s is left behind (%v)", throwaway, err)
	}

	// A database a running serve uses is refused, and the other way round.
	cfg := testConfig(t)
	startService(t, cfg)
	err := cmdSim(context.Background(), []string{"-fakewx", "-db", cfg.DBPath}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("sim -fakewx on a database serve uses: %v, want a refusal", err)
	}
	mine := filepath.Join(t.TempDir(), "sim.db")
	sim := startSim(t, env, "-fakewx", "-db", mine)
	sim.out.wait(t, 0, "chatting as")
	other := testConfig(t)
	other.DBPath = mine
	if svc, err := service.New(context.Background(), other, slog.New(slog.DiscardHandler), service.Options{}); err == nil {
		svc.Close()
		t.Error("serve started on the database sim -fakewx uses")
	} else if !strings.Contains(err.Error(), "in use") {
		t.Errorf("serve on sim's database: %v, want it refused as in use", err)
	}
	sim.quit()
}

// TestSimPhotoRefusesBadFiles: a file that cannot be a photo gets a clear
// reason, nothing is sent, and the session goes on.
func TestSimPhotoRefusesBadFiles(t *testing.T) {
	env, _, _ := simEnv(t)
	dir := t.TempDir()
	big := filepath.Join(dir, "big.jpg")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(11 << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()

	r := startSim(t, env, "-fakewx")
	r.out.wait(t, 0, "chatting as")
	missing := filepath.Join(dir, "missing.jpg")
	r.say("/photo "+missing, "!! /photo", missing, "no such file")
	r.say("/photo "+big, "!! /photo", "larger than 10 MiB")
	r.say("/photo "+dir, "!! /photo", "is a directory")
	r.say("/photo", "usage: /photo FILE")
	r.say("/follow", "连心")
	r.quit()
	if strings.Contains(r.out.String(), "已收到") {
		t.Errorf("a refused file reached lianxin:\n%s", r.out)
	}
}

// TestSimWithoutFakeAPI: against a running serve with no fake API named,
// the commands that need one say so and what to do instead.
func TestSimWithoutFakeAPI(t *testing.T) {
	env := map[string]string{"LIANXIN_CONFIG": t.TempDir()}
	// Nothing listens there: these commands never reach the webhook.
	r := startSim(t, env, "-url", "http://127.0.0.1:1/wechat")
	r.out.wait(t, 0, "no fake WeChat API")
	r.say("/photo x.jpg", "/photo needs", "-fakewx", "-api")
	r.say("/bind d-st-02", "/bind needs -fakewx", "lianxin deputy invite d-st-02")
	r.say("/deputies", "/deputies needs -fakewx", "lianxin deputy list")
	r.say("/nonsense", "unknown command /nonsense")
	// End of input ends the session like /quit.
	r.in.Close()
	select {
	case err := <-r.done:
		r.done <- err
		if err != nil {
			t.Fatalf("sim returned %v at end of input", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("sim did not stop at end of input")
	}

	err := cmdSim(context.Background(), []string{"-fakewx", "-url", "http://x/wechat"}, func(k string) string { return env[k] }, strings.NewReader(""), io.Discard, io.Discard)
	if err == nil || !strings.Contains(err.Error(), "-fakewx") {
		t.Errorf("-fakewx with -url: %v, want a refusal", err)
	}
}

// TestSimWithRunningFakewx: sim -api against a running fake WeChat API and
// service (`lianxin fakewx` and `lianxin serve`): /photo uploads over HTTP
// and lianxin fetches it from there; the live view long-polls the fake,
// shows "(you)" for the user typing and masks everyone else, and leaves out
// what was delivered before sim started.
func TestSimWithRunningFakewx(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	ts := startService(t, cfg)
	const (
		resident = "oSimApiResident00000001"
		other    = "oSimApiOther00000000002"
	)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := ts.API.SendText(ctx, other, "sim 启动前的旧消息"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"LIANXIN_CONFIG":        t.TempDir(),
		"LIANXIN_WECHAT_APPID":  cfg.WeChat.AppID,
		"LIANXIN_WECHAT_TOKEN":  cfg.WeChat.Token,
		"LIANXIN_WECHAT_AESKEY": cfg.WeChat.AESKey,
	}
	r := startSim(t, env, "-url", ts.Server.URL+"/wechat", "-api", fw.URL(), "-user", resident)
	r.out.wait(t, 0, "chatting as", "(aes mode)")

	photo := filepath.Join(t.TempDir(), "p.jpg")
	if err := os.WriteFile(photo, photos.JPEGWithGPS(320, 240, 37.86, 113.58), 0o644); err != nil {
		t.Fatal(err)
	}
	r.say("/photo "+photo, "连心")
	if err := fw.WaitCalls(ctx, func(calls []fakewx.Call) bool {
		for _, c := range calls {
			if c.Path == fakewx.PathMediaGet && c.Status == 200 && c.ErrCode == 0 {
				return true
			}
		}
		return false
	}); err != nil {
		t.Fatalf("lianxin did not fetch the uploaded photo: %v", err)
	}

	mark := r.out.len()
	if err := ts.API.SendText(ctx, resident, "您的反映已受理"); err != nil {
		t.Fatal(err)
	}
	if err := ts.API.SendText(ctx, other, "新反映通知"); err != nil {
		t.Fatal(err)
	}
	i, _ := r.out.wait(t, mark, "⇢ custom → (you)")
	r.out.wait(t, i+1, "您的反映已受理")
	i, _ = r.out.wait(t, mark, "⇢ custom → "+lianxin.MaskOpenID(other))
	r.out.wait(t, i+1, "新反映通知")
	r.quit()
	out := r.out.String()
	if strings.Contains(out, "旧消息") {
		t.Error("the live view showed a delivery from before sim started")
	}
	if strings.Contains(out, other) {
		t.Error("an openid other than the user's own was shown in clear")
	}
}

// TestConsoleKeepsThePromptWhole: a live-view line arriving while the prompt
// waits for input goes on a line of its own and the prompt comes back.
func TestConsoleKeepsThePromptWhole(t *testing.T) {
	var b strings.Builder
	c := &console{w: &b}
	c.prompt("oUser> ")
	c.async("  ⇢ custom → (you)\n    hello\n")
	c.entered("报事")
	c.printf("reply\n")
	c.async("  ⇢ later\n")
	want := "oUser> \n  ⇢ custom → (you)\n    hello\noUser> reply\n  ⇢ later\n"
	if b.String() != want {
		t.Errorf("console wrote\n%q\nwant\n%q", b.String(), want)
	}
}
