package service_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/transcript"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// TestTranscriptsThroughTheWebhook plays two of the golden transcripts (the
// flows package plays them all against the engine) through the real
// webhook in safe mode, signed and encrypted as WeChat does, with real Redis
// and each store engine (SQLite, and LIANXIN_DB=postgres://…: the README's
// flow end to end on PostgreSQL): a check that the wiring delivers what the
// engine says.
func TestTranscriptsThroughTheWebhook(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		for _, name := range []string{"happy_path", "deputies"} {
			t.Run(name, func(t *testing.T) {
				t.Parallel()
				clock := testenv.NewClock(transcript.Start)
				cfg := testConfig(t)
				cfg.DBPath = dsn()
				ts := startService(t, cfg, clock)
				conv := webhookConversation{c: ts.Client(wxsim.Safe)}
				transcript.Run{File: withoutSending(t, "../../flows/testdata/transcripts/"+name+".txt", ts), DB: ts.DB, Clock: clock, Conv: conv}.Play(t)
			})
		}
	})
}

// withoutSending is a copy of the transcript as it reads on a service
// without an AppSecret, like this test's: nothing can be sent, so deputies
// are told their notices wait in the queue rather than «已通知群众».
func withoutSending(t *testing.T, file string, ts *testService) string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	texts := ts.Data().Texts
	out := strings.ReplaceAll(string(b), texts.Get("told_resident"), texts.Get("told_queued"))
	copied := filepath.Join(t.TempDir(), filepath.Base(file))
	if err := os.WriteFile(copied, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	return copied
}

// webhookConversation sends transcript messages as WeChat would.
type webhookConversation struct{ c *wxsim.Client }

func (w webhookConversation) Send(t testing.TB, m *lianxin.Inbound) string {
	t.Helper()
	msg := wxsim.Message{From: m.OpenID, Type: string(m.Kind), MsgID: m.MsgID, Content: m.Text, MediaID: m.MediaID, PicURL: m.PicURL,
		LocationX: m.Lat, LocationY: m.Lng, Label: m.Label, Event: m.Event, EventKey: m.EventKey}
	if m.Kind == lianxin.KindLocation {
		msg.Scale = 15
	}
	if m.Kind == lianxin.KindVoice {
		msg.Content, msg.Recognition, msg.Format = "", m.Text, m.Format
	}
	r := send(t, w.c, msg)
	if r.Status != 200 {
		t.Fatalf("%s: HTTP %d %s", m.Summary(), r.Status, r.Body)
	}
	return r.Content
}
