package service_test

import (
	"testing"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/transcript"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// TestTranscriptsThroughTheWebhook plays two of the golden transcripts (the
// flows package plays them all against the engine) through the real
// webhook in safe mode, signed and encrypted as WeChat does, with real Redis
// and SQLite: a check that the wiring delivers what the engine says.
func TestTranscriptsThroughTheWebhook(t *testing.T) {
	for _, name := range []string{"happy_path", "deputies"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			clock := testenv.NewClock(transcript.Start)
			ts := startService(t, testConfig(t), clock)
			conv := webhookConversation{c: ts.Client(wxsim.Safe)}
			transcript.Run{File: "../../flows/testdata/transcripts/" + name + ".txt", DB: ts.DB, Clock: clock, Conv: conv}.Play(t)
		})
	}
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
