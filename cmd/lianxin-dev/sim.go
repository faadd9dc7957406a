package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/bot"
	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/internal/clitable"
	"github.com/lianxin/lianxin/internal/service"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

const simHelp = `Type a message and press Enter. Commands:
  /photo FILE          send a photo (JPEG, PNG, GIF or WebP, up to 10 MiB) *
  /voice TEXT          send a voice message whose recognised text is TEXT
  /loc LAT LNG LABEL   send a location, e.g. /loc 37.862 113.582 平潭街
  /follow              follow (subscribe to) the account
  /follow SCENE        follow by scanning a QR code (deputy:ID, station:ID)
  /scan SCENE          scan a QR code as a follower
  /as OPENID           switch to another user
  /bind DEPUTY_ID      make the current user that deputy (sends 绑定 CODE) **
  /deputies            list the deputies and who is bound **
  /open [URL]          open the console link of the current user's last notice
                       in their WeChat browser (web authorisation, no password) **
  /help                this help
  /quit                leave (or Ctrl-D)
  ⇢ lines              what lianxin sent through the WeChat API (to deputies,
                       residents, station groups), as it happens *
  * needs -fakewx, or -api with a running lianxin fakewx;  ** needs -fakewx
`

// Sim's stand-ins for a real account: the fake WeChat API accepts this
// secret, and template notifications name this template.
const (
	simSecret     = "sim-secret"
	simTemplateID = "TPL_sim_case_notice"
)

// maxPhotoSize is WeChat's limit for a photo, and the media pipeline's.
const maxPhotoSize = 10 << 20

// settleFor bounds how long sim waits at exit, with -fakewx, for photos and
// notifications already under way, so a piped session shows its effects.
const settleFor = 5 * time.Second

func cmdSim(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := configs.Load(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	cfg.ApplyDevDefaults()
	flags := flag.NewFlagSet("sim", flag.ContinueOnError)
	flags.SetOutput(stderr)
	webhook := flags.String("url", "http://"+cfg.Addr+"/wechat", "webhook URL of the running service")
	user := flags.String("user", "oSIMresident0000000000000001", "openid to chat as")
	account := flags.String("account", "gh_lianxin_sim", "official account original id (ToUserName)")
	mode := flags.String("mode", "", "plain, compat or aes (default: aes when LIANXIN_WECHAT_AESKEY is set, else plain)")
	withFake := flags.Bool("fakewx", false, "run lianxin and a fake WeChat API in this process and chat with them (no serve needed), on a throwaway database")
	dbPath := flags.String("db", "", "with -fakewx: keep the session in this SQLite file (and LIANXIN_REDIS_URL) instead of a throwaway database; refused while another process uses it")
	apiBase := flags.String("api", "", "base URL of a running `lianxin fakewx` (e.g. http://127.0.0.1:8090), for /photo and the live view")
	if err := flags.Parse(args); err != nil {
		return err
	}
	if flags.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", flags.Args())
	}
	set := map[string]bool{}
	flags.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if *withFake && (set["url"] || set["api"]) {
		return errors.New("-fakewx runs its own service and fake WeChat API: leave out -url and -api")
	}
	if set["db"] && !*withFake {
		return errors.New("-db goes with -fakewx: against a running serve, its own LIANXIN_DB is used")
	}
	m := wxsim.Mode(*mode)
	if m == "" {
		m = wxsim.Plain
		if cfg.WeChat.AESKey != "" {
			m = wxsim.Safe
		}
	}
	if m != wxsim.Plain && cfg.WeChat.AESKey == "" {
		return fmt.Errorf("-mode %s needs LIANXIN_WECHAT_AESKEY", m)
	}

	con := &console{w: stdout, echo: !isTerminal(stdin)}
	s := &simSession{con: con, user: *user, users: map[string]bool{*user: true}}
	if *withFake {
		if cfg.WeChat.AppSecret != "" && *dbPath != "" {
			fmt.Fprintln(stderr, "sim: LIANXIN_WECHAT_APPSECRET is set; -fakewx uses the fake's secret instead. Do not share this Redis with a live serve of the same account: the two would overwrite each other's access token.")
		}
		local, err := startLocal(ctx, cfg, *dbPath, simLogger(getenv, stderr))
		if err != nil {
			return err
		}
		s.local, s.fake = local, localFake{local.fake}
		*webhook = local.webhook
		con.printf("lianxin sim — lianxin and a fake WeChat API, both in this process\n%s", local.describe())
	} else {
		con.printf("lianxin sim — talking to %s\n", *webhook)
		if *apiBase == "" {
			con.printf("  no fake WeChat API: /photo and the live view need -api URL (a running `lianxin fakewx`), or use -fakewx\n")
		} else {
			base, err := checkBase(*apiBase)
			if err != nil {
				return fmt.Errorf("-api: %w", err)
			}
			con.printf("  fake WeChat API %s (photos and the live view)\n", base)
			rf := remoteFake{base: base, since: -1}
			// Where the live view starts is settled before the first prompt:
			// what the fake delivered earlier is not news, what follows is.
			lctx, cancel := context.WithTimeout(ctx, 3*time.Second)
			if last, err := rf.lastSeq(lctx); err != nil {
				con.printf("!! the fake WeChat API does not answer (%v): /photo and the live view fail until it does\n", err)
			} else {
				rf.since = last
			}
			cancel()
			s.fake = rf
		}
	}
	s.client = &wxsim.Client{URL: *webhook, Token: cfg.WeChat.Token, AppID: cfg.WeChat.AppID, AESKey: cfg.WeChat.AESKey, Account: *account, Mode: m}
	con.printf("chatting as %s (%s mode)\n%s", *user, m, simHelp)

	viewCtx, stopView := context.WithCancel(ctx)
	viewDone := make(chan struct{})
	go func() {
		defer close(viewDone)
		if s.fake != nil {
			s.fake.watch(viewCtx, s.showSent, s.viewNote)
		}
	}()

	err = s.loop(ctx, stdin)
	// Shutdown order: finish what is under way (only when leaving on
	// purpose), stop HTTP, then the workers; the live view goes last so it
	// shows every send the workers made, and the stores close after it
	// because it reads deputy names from them.
	if s.local != nil {
		if ctx.Err() == nil {
			s.settle(ctx)
		}
		s.local.stopServing()
	}
	stopView()
	<-viewDone
	if s.local != nil {
		s.local.close()
	}
	return err
}

// simSession is one terminal chat: who is typing, where messages go, and
// the fake WeChat API that holds photos and records what lianxin sent.
type simSession struct {
	client *wxsim.Client
	con    *console
	fake   fakeAPI   // nil without -fakewx or -api
	local  *simLocal // nil without -fakewx

	mu   sync.Mutex // guards user: the live view reads it
	user string

	users  map[string]bool   // every openid the session spoke as
	photos map[string]bool   // media ids of the photos sent
	links  map[string]string // the last console link sent to each user (guarded by mu)
}

func (s *simSession) currentUser() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.user
}

func (s *simSession) setUser(u string) {
	s.mu.Lock()
	s.user = u
	s.mu.Unlock()
	s.users[u] = true
}

// loop reads lines until /quit, end of input or ctx ends. Lines are read in
// a goroutine so a cancelled ctx is noticed while waiting for input; that
// goroutine ends at the next line or end of input (a blocked read cannot be
// interrupted), and is not waited for.
func (s *simSession) loop(ctx context.Context, in io.Reader) error {
	lines := make(chan string)
	readErr := make(chan error, 1)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(in)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-stop:
				return
			}
		}
		readErr <- sc.Err()
	}()
	for {
		s.con.prompt(s.currentUser() + "> ")
		select {
		case <-ctx.Done():
			s.con.endPrompt()
			return nil
		case raw, ok := <-lines:
			if !ok {
				s.con.endPrompt()
				select {
				case err := <-readErr:
					return err
				default:
					return nil
				}
			}
			s.con.entered(raw)
			line := strings.TrimSpace(raw)
			if line == "" {
				continue
			}
			if quit := s.handle(ctx, line); quit {
				return nil
			}
		}
	}
}

// handle acts on one typed line and reports whether the session should end.
func (s *simSession) handle(ctx context.Context, line string) (quit bool) {
	user := s.currentUser()
	if !strings.HasPrefix(line, "/") {
		s.send(ctx, wxsim.Text(user, line))
		return false
	}
	cmd, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch cmd {
	case "/quit", "/exit":
		return true
	case "/help":
		s.con.printf("%s", simHelp)
	case "/as":
		if rest == "" || strings.ContainsAny(rest, " \t") {
			s.con.printf("usage: /as OPENID\n")
			return false
		}
		s.setUser(rest)
	case "/follow":
		if rest != "" { // followed by scanning a code (代表码): /follow deputy:d-pt-03
			s.send(ctx, wxsim.ScanSubscribe(user, rest))
			return false
		}
		s.send(ctx, wxsim.Event(user, "subscribe", ""))
	case "/scan":
		if rest == "" {
			s.con.printf("usage: /scan SCENE (deputy:ID, station:ID)\n")
			return false
		}
		s.send(ctx, wxsim.Scan(user, rest))
	case "/voice":
		if rest == "" {
			s.con.printf("usage: /voice TEXT\n")
			return false
		}
		s.sendVoice(ctx, user, rest)
	case "/loc":
		f := strings.Fields(rest)
		if len(f) < 2 {
			s.con.printf("usage: /loc LAT LNG LABEL\n")
			return false
		}
		lat, err1 := strconv.ParseFloat(f[0], 64)
		lng, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil {
			s.con.printf("usage: /loc LAT LNG LABEL (numbers, e.g. 37.862 113.582)\n")
			return false
		}
		s.send(ctx, wxsim.Location(user, lat, lng, strings.Join(f[2:], " ")))
	case "/photo":
		s.sendPhoto(ctx, user, rest)
	case "/bind":
		s.bind(ctx, user, rest)
	case "/deputies":
		s.listDeputies(ctx, user)
	case "/open":
		s.open(ctx, user, rest)
	default:
		s.con.printf("unknown command %s (try /help)\n", cmd)
	}
	return false
}

// sendPhoto puts the file where WeChat keeps what users send (the fake
// API), then sends the image message that names it, so lianxin fetches it
// with media/get and stores it as it would a resident's.
func (s *simSession) sendPhoto(ctx context.Context, user, name string) {
	if s.fake == nil {
		s.con.printf("!! /photo needs a fake WeChat API to hold the photo: start sim with -fakewx, or run `lianxin fakewx` and pass -api URL\n")
		return
	}
	name = strings.Trim(name, `"'`)
	if name == "" {
		s.con.printf("usage: /photo FILE\n")
		return
	}
	data, contentType, err := readPhoto(name)
	if err != nil {
		s.con.printf("!! /photo: %v\n", err)
		return
	}
	uctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	id, picURL, err := s.fake.upload(uctx, contentType, data)
	cancel()
	if err != nil {
		s.con.printf("!! /photo: uploading to the fake WeChat API: %v\n", err)
		return
	}
	if s.photos == nil {
		s.photos = map[string]bool{}
	}
	s.photos[id] = true
	note := ""
	switch contentType {
	case "image/jpeg", "image/png", "image/gif", "image/webp":
	default:
		// Sent anyway: how lianxin refuses it is worth seeing too.
		note = "; not a JPEG, PNG, GIF or WebP, so lianxin will refuse it once fetched"
	}
	s.con.printf("   (photo %s, %s, %s, media_id %s%s)\n", filepath.Base(name), sizeText(len(data)), contentType, short(id), note)
	s.send(ctx, wxsim.Image(user, id, picURL))
}

// readPhoto reads a file to send as a photo and names its type from its
// bytes, as WeChat's servers would.
func readPhoto(name string) (data []byte, contentType string, err error) {
	f, err := os.Open(name)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil, "", fmt.Errorf("%s: no such file", name)
	case errors.Is(err, fs.ErrPermission):
		return nil, "", fmt.Errorf("%s: not readable (permission denied)", name)
	case err != nil:
		return nil, "", fmt.Errorf("%s: cannot open: %v", name, err)
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.IsDir() {
		return nil, "", fmt.Errorf("%s is a directory, not a photo", name)
	}
	// One byte more than allowed tells "too large" without reading it all.
	data, err = io.ReadAll(io.LimitReader(f, maxPhotoSize+1))
	if err != nil {
		return nil, "", fmt.Errorf("%s: cannot read: %v", name, err)
	}
	if len(data) > maxPhotoSize {
		return nil, "", fmt.Errorf("%s is larger than 10 MiB, WeChat's limit for a photo", name)
	}
	if len(data) == 0 {
		return nil, "", fmt.Errorf("%s is empty", name)
	}
	return data, http.DetectContentType(data), nil
}

// sendVoice sends a voice message. With a fake API its audio is there too,
// so the media worker can fetch it as it fetches real voice.
func (s *simSession) sendVoice(ctx context.Context, user, text string) {
	id := fmt.Sprintf("SIMVOICE%d", time.Now().UnixNano())
	if s.fake != nil {
		uctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		uploaded, _, err := s.fake.upload(uctx, "audio/amr", fakewx.VoiceAMR())
		cancel()
		if err != nil {
			s.con.printf("!! /voice: uploading the audio to the fake WeChat API: %v (sending without it)\n", err)
		} else {
			id = uploaded
		}
	}
	s.send(ctx, wxsim.Voice(user, id, text))
}

// bind makes the current user a deputy the way a deputy does it: with a
// one-time code staff give them, sent as 绑定 CODE.
func (s *simSession) bind(ctx context.Context, user, deputyID string) {
	if s.local == nil {
		s.con.printf("!! /bind needs -fakewx (the service in this process); against a running serve, run `lianxin deputy invite %s` and send 绑定 CODE\n", orPlaceholder(deputyID, "ID"))
		return
	}
	if deputyID == "" || strings.ContainsAny(deputyID, " \t") {
		s.con.printf("usage: /bind DEPUTY_ID (see /deputies)\n")
		return
	}
	code, _, err := s.local.svc.DB.CreateInvite(ctx, deputyID, 10*time.Minute)
	if err != nil {
		s.con.printf("!! /bind: %s\n", operatorError(err))
		return
	}
	s.con.printf("   (invite code %s for %s; sending 绑定 %s)\n", code, deputyID, code)
	s.send(ctx, wxsim.Text(user, "绑定 "+code))
}

func (s *simSession) listDeputies(ctx context.Context, user string) {
	if s.local == nil {
		s.con.printf("!! /deputies needs -fakewx (the service in this process); against a running serve, run `lianxin deputy list`\n")
		return
	}
	recs, err := s.local.svc.DB.DeputyRecords(ctx)
	if err != nil {
		s.con.printf("!! /deputies: %s\n", operatorError(err))
		return
	}
	var b bytes.Buffer
	var tb clitable.Table
	tb.Row("  ID", "BOUND", "HEAD", "NAME", "STATION")
	for _, r := range recs {
		station := r.StationID
		if st, ok := s.local.svc.Data().Directory.Station(r.StationID); ok {
			station = st.Name
		}
		head, bound := "", "no"
		if r.Head {
			head = "head"
		}
		switch {
		case r.Bound && r.OpenID == user:
			bound = "(you)"
		case r.Bound:
			bound = lianxin.MaskOpenID(r.OpenID)
		}
		if !r.Active {
			bound += " (inactive)"
		}
		tb.Row("  "+r.ID, bound, head, r.Name, station)
	}
	tb.Write(&b)
	s.con.printf("%s", b.String())
}

// operatorError is an error as sim shows it: the message meant for people
// when there is one, all of it otherwise (sim is a developer's tool).
func operatorError(err error) string {
	if lianxin.ErrorCode(err) != lianxin.EINTERNAL {
		return lianxin.ErrorMessage(err)
	}
	return err.Error()
}

func (s *simSession) send(ctx context.Context, m wxsim.Message) {
	rctx, cancel := context.WithTimeout(ctx, 6*time.Second)
	defer cancel()
	rep, err := s.client.Send(rctx, m)
	switch {
	case err != nil:
		s.con.printf("!! %v\n", err)
	case rep.Status != 200:
		s.con.printf("!! HTTP %d: %s\n", rep.Status, strings.TrimSpace(string(rep.Body)))
	case rep.Empty():
		s.con.printf("   (no reply, %s)\n", rep.Latency.Round(time.Millisecond))
	default:
		s.con.printf("连心 (%s):\n%s\n", rep.Latency.Round(time.Millisecond), indent(rep.Content))
	}
}

// showSent is the live view of one message lianxin sent through the API.
func (s *simSession) showSent(m sentMessage) {
	s.noteLinks(m)
	kind := m.Kind
	if m.MsgType != "" && m.MsgType != "text" && m.MsgType != fakewx.KindTemplate {
		kind += " " + m.MsgType
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  ⇢ %s → %s", kind, s.recipient(m))
	if m.TemplateID != "" {
		fmt.Fprintf(&b, " [template %s]", m.TemplateID)
	}
	b.WriteString("\n")
	for l := range strings.SplitSeq(m.Text, "\n") {
		b.WriteString("    " + l + "\n")
	}
	s.con.async(b.String())
}

// recipient names whom a send went to without showing an openid in clear:
// the deputy it belongs to when the service is in this process, "(you)" for
// the user typing, the masked openid otherwise.
func (s *simSession) recipient(m sentMessage) string {
	if m.Kind == fakewx.KindRobot {
		return "station group robot " + short(m.To)
	}
	who := ""
	if s.local != nil {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		d, ok, err := s.local.svc.DB.DeputyByOpenID(ctx, m.To)
		cancel()
		if err == nil && ok {
			who = "deputy " + d.ID + " " + d.Name + " "
		}
	}
	if m.To == s.currentUser() {
		return who + "(you)"
	}
	return who + lianxin.MaskOpenID(m.To)
}

func (s *simSession) viewNote(text string) { s.con.async("   (" + text + ")\n") }

// settle waits, for at most settleFor, until the photos this session sent
// are stored and the notifications due now are out, so what a piped session
// caused is seen before sim stops the service.
func (s *simSession) settle(ctx context.Context) {
	deadline := time.Now().Add(settleFor)
	t := time.NewTicker(50 * time.Millisecond)
	defer t.Stop()
	announced := false
	for {
		photos, sends := s.local.inFlight(ctx, s.users, s.photos)
		if photos+sends == 0 {
			return
		}
		if !announced {
			s.con.printf("   (waiting up to %s for lianxin to finish: %d photo(s) to store, %d message(s) to send)\n", settleFor, photos, sends)
			announced = true
		}
		if time.Now().After(deadline) {
			s.con.printf("   (stopping anyway: what is left stays queued in the database and is done on the next start)\n")
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}

func orPlaceholder(s, placeholder string) string {
	if s == "" {
		return placeholder
	}
	return s
}

func sizeText(n int) string {
	if n < 1<<10 {
		return fmt.Sprintf("%d bytes", n)
	}
	if n < 1<<20 {
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}

// console is the terminal both the chat and the live view write to. The
// live view writes whenever a send happens; when the prompt is showing it
// moves to a new line first and shows the prompt again after, so the two
// never share a line.
type console struct {
	mu      sync.Mutex
	w       io.Writer
	echo    bool   // input is not a terminal: show each line read, as a transcript
	showing string // the prompt on screen awaiting input; "" when none is
}

func (c *console) printf(format string, args ...any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fmt.Fprintf(c.w, format, args...)
}

func (c *console) prompt(p string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.showing = p
	io.WriteString(c.w, p)
}

// entered records that a line was read: a terminal has echoed it and its
// newline; anything else gets it written out.
func (c *console) entered(line string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.echo {
		io.WriteString(c.w, line+"\n")
	}
	c.showing = ""
}

// endPrompt finishes the prompt's line when input ends.
func (c *console) endPrompt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.showing != "" {
		io.WriteString(c.w, "\n")
		c.showing = ""
	}
}

func (c *console) async(text string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.showing != "" {
		io.WriteString(c.w, "\n")
	}
	io.WriteString(c.w, text)
	if c.showing != "" {
		io.WriteString(c.w, c.showing)
	}
}

func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// simLogger sends the in-process service's log to stderr, at warn unless
// LIANXIN_LOG_LEVEL asks otherwise: info lines would drown the chat.
func simLogger(getenv func(string) string, stderr io.Writer) *slog.Logger {
	level := getenv("LIANXIN_LOG_LEVEL")
	if level == "" {
		level = "warn"
	}
	return service.NewLogger(stderr, level)
}

// simLocal is `serve` and `lianxin fakewx` in this process, wired together.
type simLocal struct {
	cfg configs.Config
	// scratch is the throwaway database's directory, removed at the end;
	// "" with -db.
	scratch     string
	fake        *fakewx.Server
	svc         *service.Service
	srv         *http.Server
	served      chan error
	stopWorkers context.CancelFunc
	wait        func()
	webhook     string
}

// startLocal runs lianxin and a fake WeChat API in this process. Its
// database is a throwaway one of its own (with its photos and an in-process
// Redis, all gone at the end) unless dbPath names one: whatever LIANXIN_DB
// says, a simulation never writes to a register people use. A database
// named with -db is claimed for sim alone, so one a serve uses is refused.
func startLocal(ctx context.Context, cfg configs.Config, dbPath string, log *slog.Logger) (_ *simLocal, err error) {
	scratch := ""
	if dbPath == "" {
		if scratch, err = os.MkdirTemp("", "lianxin-sim-"); err != nil {
			return nil, fmt.Errorf("a throwaway database: %w", err)
		}
		defer func() {
			if err != nil {
				os.RemoveAll(scratch)
			}
		}()
		cfg.DBPath, cfg.DataDir = filepath.Join(scratch, "lianxin.db"), filepath.Join(scratch, "data")
		cfg.RedisURL, cfg.RedisExplicit = "embedded", false
	} else {
		cfg.DBPath = dbPath
	}
	// The real grace for superseded tokens, as `lianxin fakewx` uses: a
	// simulation should behave like WeChat.
	fake := fakewx.New(fakewx.Options{AppID: cfg.WeChat.AppID, AppSecret: simSecret, TokenGrace: fakewx.RealTokenGrace})
	if err := fake.Start(); err != nil {
		return nil, err
	}
	cfg.WeChat.APIBase = fake.URL()
	cfg.WeChat.OAuthBase = fake.URL()
	cfg.WeChat.AppSecret = simSecret
	if cfg.WeChat.TemplateID == "" {
		cfg.WeChat.TemplateID = simTemplateID
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		fake.Close()
		return nil, fmt.Errorf("listening on loopback: %w", err)
	}
	// Deputies' notices link to their cases on this console.
	cfg.Console.PublicURL = "http://" + ln.Addr().String()
	svc, err := service.New(ctx, cfg, log, service.Options{ExclusiveDB: true})
	if err != nil {
		ln.Close()
		fake.Close()
		return nil, err
	}
	l := &simLocal{
		cfg: cfg, scratch: scratch, fake: fake, svc: svc, served: make(chan error, 1),
		srv:     bot.NewServer(svc.Handler(), log),
		webhook: "http://" + ln.Addr().String() + "/wechat",
	}
	go func() { l.served <- l.srv.Serve(ln) }()
	// The workers outlive ctx until stopServing: on the way out, webhook
	// requests in flight may still queue work for them.
	workers, stop := context.WithCancel(context.WithoutCancel(ctx))
	l.stopWorkers = stop
	l.wait = svc.Start(workers)
	return l, nil
}

// describe says where everything runs, so a developer can point curl,
// `lianxin cases` or a second sim at it.
func (l *simLocal) describe() string {
	abs := func(p string) string {
		if a, err := filepath.Abs(p); err == nil {
			return a
		}
		return p
	}
	// Conversations outlive the process, not the database: the same
	// LIANXIN_DB and Redis pick up yesterday's half-finished reports.
	redisText := service.RedactURL(l.cfg.RedisURL) + " (keys " + l.svc.ConversationPrefix() + "*; LIANXIN_REDIS_URL=embedded for a throwaway run)"
	if l.svc.EmbeddedRedis() != "" {
		redisText = "embedded at " + l.svc.EmbeddedRedis() + " (conversations end with sim)"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  webhook          %s\n", l.webhook)
	fmt.Fprintf(&b, "  console          %s/console/ (accounts: go run ./cmd/lianxin user add; deputies: /open)\n", l.cfg.Console.PublicURL)
	fmt.Fprintf(&b, "  fake WeChat API  %s (deliveries: %s%s?wait=30s)\n", l.fake.URL(), l.fake.URL(), fakewx.PathSent)
	if l.scratch != "" {
		fmt.Fprintf(&b, "  database         %s (throwaway, removed when sim ends; -db FILE keeps one)\n", abs(l.cfg.DBPath))
	} else {
		fmt.Fprintf(&b, "  database         %s\n", abs(l.cfg.DBPath))
	}
	fmt.Fprintf(&b, "  photos           %s\n", abs(l.cfg.DataDir))
	fmt.Fprintf(&b, "  Redis            %s\n", redisText)
	fmt.Fprintf(&b, "  (service log on stderr; LIANXIN_LOG_LEVEL=info for more)\n")
	return b.String()
}

// stopServing stops HTTP, then the workers, as serve does.
func (l *simLocal) stopServing() {
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := l.srv.Shutdown(sctx); err != nil {
		l.srv.Close()
	}
	<-l.served
	l.stopWorkers()
	l.wait()
}

// close releases the stores and the fake, after stopServing, and removes
// a throwaway database.
func (l *simLocal) close() {
	l.svc.Close()
	l.fake.Close()
	if l.scratch != "" {
		os.RemoveAll(l.scratch)
	}
}

// inFlight counts the session's photos not yet stored (those already in a
// case; a draft's are not looked for) and the sends due now.
func (l *simLocal) inFlight(ctx context.Context, users, photos map[string]bool) (pendingPhotos, pendingSends int) {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	db := l.svc.DB
	if len(photos) > 0 {
		for u := range users {
			cases, err := db.Cases(ctx, lianxin.CaseFilter{OpenID: u, Limit: 20})
			if err != nil {
				break
			}
			for _, c := range cases {
				full, err := db.Case(ctx, c.Number)
				if err != nil {
					continue
				}
				for _, a := range full.Attachments {
					if photos[a.MediaID] && a.Status == lianxin.AttachmentPending {
						pendingPhotos++
					}
				}
			}
		}
	}
	rows, err := db.Outbox(ctx, 200)
	if err == nil {
		// Sends waiting for a retry or for a deputy to bind are not under
		// way; they would hold the exit for nothing.
		soon := time.Now().Add(time.Second)
		for _, r := range rows {
			if r.Status == lianxin.OutboxPending && r.NextAttempt.Before(soon) {
				pendingSends++
			}
		}
	}
	return pendingPhotos, pendingSends
}

// sentMessage is a message WeChat accepted from lianxin, as the live view
// shows it; the fields and JSON names of fakewx.Sent.
type sentMessage struct {
	Seq        int    `json:"seq"`
	Kind       string `json:"kind"`
	MsgType    string `json:"msgtype"`
	To         string `json:"to"`
	Text       string `json:"text"`
	TemplateID string `json:"template_id"`
}

func fromSent(m fakewx.Sent) sentMessage {
	return sentMessage{Seq: m.Seq, Kind: m.Kind, MsgType: m.MsgType, To: m.To, Text: m.Text, TemplateID: m.TemplateID}
}

// fakeAPI is what sim needs from the fake WeChat API, whether it runs in
// this process (-fakewx) or as `lianxin fakewx` (-api).
type fakeAPI interface {
	// upload registers media as if a user had just sent it and returns its
	// media id and PicUrl.
	upload(ctx context.Context, contentType string, data []byte) (mediaID, picURL string, err error)
	// watch calls show for each message delivered from now on, in order,
	// until ctx ends, and note for trouble worth telling the user.
	watch(ctx context.Context, show func(sentMessage), note func(string))
}

type localFake struct{ fw *fakewx.Server }

func (f localFake) upload(_ context.Context, contentType string, data []byte) (string, string, error) {
	id := fakewx.NewMediaID()
	f.fw.AddMedia(id, contentType, data)
	return id, f.fw.PicURL(id), nil
}

func (f localFake) watch(ctx context.Context, show func(sentMessage), _ func(string)) {
	since := 0
	for {
		err := f.fw.WaitSent(ctx, func(sent []fakewx.Sent) bool {
			return len(sent) > 0 && sent[len(sent)-1].Seq > since
		})
		// Also after ctx ends: what was delivered by then is still shown.
		for _, m := range f.fw.Sent() {
			if m.Seq > since {
				show(fromSent(m))
				since = m.Seq
			}
		}
		if err != nil {
			return
		}
	}
}

// remoteFake is a `lianxin fakewx` reached over HTTP.
type remoteFake struct {
	base  string
	since int // the live view shows deliveries after this; -1: not known yet
}

// checkBase accepts the fake's base URL as printed by `lianxin fakewx`.
func checkBase(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%q is not a URL like http://127.0.0.1:8090", raw)
	}
	return strings.TrimRight(raw, "/"), nil
}

func (f remoteFake) upload(ctx context.Context, contentType string, data []byte) (string, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.base+fakewx.PathUploadMedia, bytes.NewReader(data))
	if err != nil {
		return "", "", err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return "", "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(body)))
	}
	var r struct {
		MediaID string `json:"media_id"`
		PicURL  string `json:"pic_url"`
	}
	if err := json.Unmarshal(body, &r); err != nil || r.MediaID == "" {
		return "", "", fmt.Errorf("unexpected answer %.200q", body)
	}
	return r.MediaID, r.PicURL, nil
}

// sent asks for the deliveries after since, long-polling up to wait.
func (f remoteFake) sent(ctx context.Context, since int, wait time.Duration) ([]sentMessage, error) {
	u := fmt.Sprintf("%s%s?since=%d", f.base, fakewx.PathSent, since)
	if wait > 0 {
		u += "&wait=" + wait.String()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered HTTP %d", fakewx.PathSent, resp.StatusCode)
	}
	var out []sentMessage
	if err := json.NewDecoder(io.LimitReader(resp.Body, 32<<20)).Decode(&out); err != nil {
		return nil, fmt.Errorf("%s: %w", fakewx.PathSent, err)
	}
	return out, nil
}

// lastSeq is the number of the fake's latest delivery (0 for none).
func (f remoteFake) lastSeq(ctx context.Context) (int, error) {
	all, err := f.sent(ctx, 0, 0)
	if err != nil || len(all) == 0 {
		return 0, err
	}
	return all[len(all)-1].Seq, nil
}

// watch long-polls /fakewx/sent from f.since. It notices a restarted fake
// (its numbering starts again) so nothing delivered afterwards is missed.
func (f remoteFake) watch(ctx context.Context, show func(sentMessage), note func(string)) {
	since := f.follow(ctx, show, note)
	if since < 0 {
		return
	}
	// One last look when sim stops: an answer the cancelled long-poll was
	// about to bring is still shown.
	fctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	msgs, _ := f.sent(fctx, since, 0)
	for _, m := range msgs {
		show(m)
	}
}

// follow shows deliveries as they happen until ctx ends, and returns where
// it got to (-1: the fake never answered, or stopped answering).
func (f remoteFake) follow(ctx context.Context, show func(sentMessage), note func(string)) int {
	const wait, retry = 25 * time.Second, 2 * time.Second
	since := f.since
	// Not known yet means cmdSim already said the fake does not answer.
	resync, failing := false, since < 0
	for ctx.Err() == nil {
		var err error
		if since < 0 || resync {
			var last int
			if last, err = f.lastSeq(ctx); err == nil {
				switch {
				case since < 0:
					since = last // what it delivered before it first answered is not news
				case last < since:
					since = 0 // restarted: its numbering began again
				}
				resync = false
			}
		}
		var msgs []sentMessage
		if err == nil {
			msgs, err = f.sent(ctx, since, wait)
		}
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			if !failing {
				note(fmt.Sprintf("live view: the fake WeChat API at %s: %v; retrying", f.base, err))
				failing = true
			}
			resync = true
			t := time.NewTimer(retry)
			select {
			case <-ctx.Done():
				t.Stop()
			case <-t.C:
			}
			continue
		}
		if failing {
			note("live view: the fake WeChat API answers again")
			failing = false
		}
		for _, m := range msgs {
			show(m)
			since = m.Seq
		}
	}
	if failing || resync {
		return -1
	}
	return since
}
