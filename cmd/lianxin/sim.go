package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/lianxin/lianxin/bot/wxsim"
	"github.com/lianxin/lianxin/configs"
)

const simHelp = `Type a message and press Enter. Commands:
  /loc LAT LNG LABEL   send a location, e.g. /loc 37.862 113.582 平潭街
  /voice TEXT          send a voice message whose recognised text is TEXT
  /follow              follow (subscribe to) the account
  /as OPENID           switch to another user
  /help                this help
  /quit                leave
`

func cmdSim(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cfg, err := configs.Load(getenv)
	if err != nil {
		return fmt.Errorf("invalid configuration:\n%w", err)
	}
	cfg.ApplyDevDefaults()
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "http://"+cfg.Addr+"/wechat", "webhook URL of the running service")
	user := fs.String("user", "oSIMresident0000000000000001", "openid to chat as")
	account := fs.String("account", "gh_lianxin_sim", "official account original id (ToUserName)")
	mode := fs.String("mode", "", "plain, compat or aes (default: aes when LIANXIN_WECHAT_AESKEY is set, else plain)")
	if err := fs.Parse(args); err != nil {
		return err
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
	c := &wxsim.Client{URL: *url, Token: cfg.WeChat.Token, AppID: cfg.WeChat.AppID, AESKey: cfg.WeChat.AESKey, Account: *account, Mode: m}
	s := &simSession{client: c, user: *user, out: stdout}
	fmt.Fprintf(stdout, "lianxin sim — talking to %s as %s (%s mode)\n%s", *url, *user, m, simHelp)
	return s.loop(ctx, stdin)
}

type simSession struct {
	client *wxsim.Client
	user   string
	out    io.Writer
}

func (s *simSession) loop(ctx context.Context, in io.Reader) error {
	sc := bufio.NewScanner(in)
	s.prompt()
	for sc.Scan() {
		if ctx.Err() != nil {
			return nil
		}
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			s.prompt()
			continue
		}
		msg, quit, err := s.parse(line)
		if quit {
			return nil
		}
		if err != nil {
			fmt.Fprintln(s.out, err)
		} else if msg != nil {
			s.send(ctx, *msg)
		}
		s.prompt()
	}
	return sc.Err()
}

func (s *simSession) prompt() { fmt.Fprintf(s.out, "%s> ", s.user) }

// parse turns a typed line into a message (nil for local commands).
func (s *simSession) parse(line string) (msg *wxsim.Message, quit bool, err error) {
	if !strings.HasPrefix(line, "/") {
		m := wxsim.Text(s.user, line)
		return &m, false, nil
	}
	cmd, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch cmd {
	case "/quit", "/exit":
		return nil, true, nil
	case "/help":
		fmt.Fprint(s.out, simHelp)
	case "/as":
		if rest == "" {
			return nil, false, fmt.Errorf("usage: /as OPENID")
		}
		s.user = rest
	case "/follow":
		m := wxsim.Event(s.user, "subscribe", "")
		return &m, false, nil
	case "/voice":
		if rest == "" {
			return nil, false, fmt.Errorf("usage: /voice TEXT")
		}
		m := wxsim.Voice(s.user, fmt.Sprintf("SIMVOICE%d", time.Now().UnixNano()), rest)
		return &m, false, nil
	case "/loc":
		f := strings.Fields(rest)
		if len(f) < 2 {
			return nil, false, fmt.Errorf("usage: /loc LAT LNG LABEL")
		}
		lat, err1 := strconv.ParseFloat(f[0], 64)
		lng, err2 := strconv.ParseFloat(f[1], 64)
		if err1 != nil || err2 != nil {
			return nil, false, fmt.Errorf("usage: /loc LAT LNG LABEL (numbers, e.g. 37.862 113.582)")
		}
		m := wxsim.Location(s.user, lat, lng, strings.Join(f[2:], " "))
		return &m, false, nil
	default:
		return nil, false, fmt.Errorf("unknown command %s (try /help)", cmd)
	}
	return nil, false, nil
}

func (s *simSession) send(ctx context.Context, m wxsim.Message) {
	rctx, cancel := context.WithTimeout(ctx, 6*time.Second)
	defer cancel()
	rep, err := s.client.Send(rctx, m)
	switch {
	case err != nil:
		fmt.Fprintf(s.out, "!! %v\n", err)
	case rep.Status != 200:
		fmt.Fprintf(s.out, "!! HTTP %d: %s\n", rep.Status, strings.TrimSpace(string(rep.Body)))
	case rep.Empty():
		fmt.Fprintf(s.out, "   (no reply, %s)\n", rep.Latency.Round(time.Millisecond))
	default:
		fmt.Fprintf(s.out, "连心 (%s):\n%s\n", rep.Latency.Round(time.Millisecond), indent(rep.Content))
	}
}

func indent(s string) string {
	return "  " + strings.ReplaceAll(s, "\n", "\n  ")
}
