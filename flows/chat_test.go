package flows

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/transcript"
)

// Helpers for tests that hold a conversation with the engine, as the
// transcripts do but with assertions in Go.

// newChat is an engine on the shipped data and a fresh database, with its
// clock at the transcripts' start.
func newChat(t *testing.T) *sessionMap {
	t.Helper()
	return newSessionMap(t, testenv.NewClock(transcript.Start), testenv.DBPath(t))
}

// say sends each line (in the transcripts' notation: text, [image],
// [voice] words, [location LAT LNG LABEL], [wait D]) from user and returns
// the last reply.
func (c *sessionMap) say(t *testing.T, user string, lines ...string) string {
	t.Helper()
	var reply string
	for _, line := range lines {
		m, wait, err := transcript.Message(line, user, c.clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		if wait > 0 {
			c.clock.Add(wait)
			continue
		}
		reply = c.Send(t, m)
	}
	return reply
}

// bind binds user's WeChat to the deputy.
func (c *sessionMap) bind(t *testing.T, user, deputyID string) {
	t.Helper()
	code, _, err := c.db.CreateInvite(context.Background(), deputyID, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if r := c.say(t, user, "绑定 "+code); !strings.Contains(r, "绑定成功") {
		t.Fatalf("binding %s: %q", deputyID, r)
	}
}

func contains(t *testing.T, what, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("%s: %q does not contain %q", what, got, w)
		}
	}
}

func lacks(t *testing.T, what, got string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(got, w) {
			t.Errorf("%s: %q contains %q", what, got, w)
		}
	}
}

// payloadText is the text of an outbox payload: a message's text or a
// robot post's content.
func payloadText(payload string) string {
	var p struct {
		Text    string `json:"text"`
		Content string `json:"content"`
	}
	json.Unmarshal([]byte(payload), &p)
	return p.Text + p.Content
}
