package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/configs"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
)

// cmdFakewx runs the fake WeChat API as a standalone server and prints every
// call it answers as it happens: what serve fetched and sent, as a live view.
func cmdFakewx(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("fakewx", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	appID := fs.String("appid", "", "the AppID the token endpoints accept (default LIANXIN_WECHAT_APPID; empty accepts any)")
	secret := fs.String("secret", "", "the AppSecret the token endpoints accept (default LIANXIN_WECHAT_APPSECRET; empty accepts any)")
	latency := fs.Duration("latency", 0, "delay every answer by this long (e.g. 200ms)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if !set["appid"] || !set["secret"] {
		cfg, err := configs.Load(getenv)
		if err != nil {
			return fmt.Errorf("invalid configuration (or pass -appid and -secret):\n%w", err)
		}
		if !set["appid"] {
			*appID = cfg.WeChat.AppID
		}
		if !set["secret"] {
			*secret = cfg.WeChat.AppSecret
		}
	}

	// The real grace for superseded tokens: a simulation should behave like
	// WeChat, not like the strict setting tests use.
	fake := fakewx.New(fakewx.Options{AppID: *appID, AppSecret: *secret, TokenGrace: fakewx.RealTokenGrace})
	defer fake.Close()
	if *latency > 0 {
		fake.SetLatency("", *latency)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("-addr: %w", err)
	}
	srv := &http.Server{Handler: fake.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()

	base := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "fake WeChat API listening on %s\n", base)
	fmt.Fprintf(stdout, "point lianxin serve at it with:\n  LIANXIN_WECHAT_API_BASE=%s\n", base)
	if *appID != "" {
		fmt.Fprintf(stdout, "  LIANXIN_WECHAT_APPID=%s\n", *appID)
	} else {
		fmt.Fprintln(stdout, "  (any LIANXIN_WECHAT_APPID and LIANXIN_WECHAT_APPSECRET are accepted)")
	}
	if *secret != "" {
		fmt.Fprintln(stdout, "  LIANXIN_WECHAT_APPSECRET=(the one configured)")
	}
	fmt.Fprintf(stdout, "hand it a photo a resident sends:\n  curl --data-binary @photo.jpg -H 'Content-Type: image/jpeg' %s%s\n", base, fakewx.PathUploadMedia)
	if *latency > 0 {
		fmt.Fprintf(stdout, "every answer is delayed by %v\n", *latency)
	}
	fmt.Fprintln(stdout, "calls, as they happen:")

	viewDone := make(chan struct{})
	go func() {
		defer close(viewDone)
		liveView(ctx, fake, stdout)
	}()

	select {
	case err = <-errc:
	case <-ctx.Done():
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		err = srv.Shutdown(sctx)
	}
	fake.Close() // ends the live view's wait
	<-viewDone
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// liveView prints each recorded call once, in order, until ctx ends or the
// fake closes.
func liveView(ctx context.Context, fake *fakewx.Server, w io.Writer) {
	since := 0
	for {
		err := fake.WaitCalls(ctx, func(calls []fakewx.Call) bool {
			return len(calls) > 0 && calls[len(calls)-1].Seq > since
		})
		for _, c := range fake.Calls() {
			if c.Seq > since {
				fmt.Fprintln(w, describeCall(c))
				since = c.Seq
			}
		}
		if err != nil {
			return
		}
	}
}

// describeCall is one line of the live view: when, what, the answer, and
// for sends whom (masked) and what they read.
func describeCall(c fakewx.Call) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %-4s %s", c.At.Format("15:04:05.000"), c.Method, c.Path)
	switch {
	case c.Status == 499:
		b.WriteString(" → client gave up")
	case c.Status != http.StatusOK:
		fmt.Fprintf(&b, " → HTTP %d", c.Status)
	case c.ErrCode != 0:
		var e struct {
			ErrMsg string `json:"errmsg"`
		}
		json.Unmarshal(c.Response, &e)
		fmt.Fprintf(&b, " → errcode %d %s", c.ErrCode, e.ErrMsg)
	default:
		b.WriteString(" → ok")
	}
	var req struct {
		ToUser     string `json:"touser"`
		MsgType    string `json:"msgtype"`
		TemplateID string `json:"template_id"`
		Text       struct {
			Content string `json:"content"`
		} `json:"text"`
		Markdown struct {
			Content string `json:"content"`
		} `json:"markdown"`
		News struct {
			Articles []struct {
				Title string `json:"title"`
			} `json:"articles"`
		} `json:"news"`
		Data map[string]struct {
			Value string `json:"value"`
		} `json:"data"`
	}
	switch c.Path {
	case fakewx.PathMediaGet:
		fmt.Fprintf(&b, "  media_id=%s", short(c.Query.Get("media_id")))
	case fakewx.PathCustomSend, fakewx.PathTemplateSend, fakewx.PathWebhookSend:
		if json.Unmarshal(c.Body, &req) != nil {
			break
		}
		to := lianxin.MaskOpenID(req.ToUser)
		if c.Path == fakewx.PathWebhookSend {
			to = "robot " + short(c.Query.Get("key"))
		}
		text := req.Text.Content + req.Markdown.Content
		if len(req.News.Articles) > 0 {
			text = "[news] " + req.News.Articles[0].Title
		}
		if c.Path == fakewx.PathTemplateSend {
			keys := make([]string, 0, len(req.Data))
			for k := range req.Data {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			parts := make([]string, len(keys))
			for i, k := range keys {
				parts[i] = k + "=" + req.Data[k].Value
			}
			text = "[template " + req.TemplateID + "] " + strings.Join(parts, " ")
		}
		fmt.Fprintf(&b, "  to=%s  %s", to, strings.ReplaceAll(text, "\n", " ⏎ "))
	}
	return b.String()
}

// short abbreviates a media id or robot key for the live view.
func short(s string) string {
	if len(s) <= 8 {
		return s
	}
	return s[:8] + "…"
}
