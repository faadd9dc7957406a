// Package transcript plays the golden transcripts: whole conversations
// written as a resident and deputies see them (flows/testdata/transcripts),
// each message sent and each reply compared with the file. The flows
// package plays them straight into the conversation engine; the service's
// tests play a few through the real webhook. Either way the cases and the
// notifications are read back from the real SQLite store.
//
// A transcript is a sequence of lines:
//
//	> text                  the resident sends text
//	> [image]               … a photo
//	> [voice] words         … a voice message WeChat recognised as words ([voice] alone: not recognised)
//	> [location LAT LNG L]  … a location labelled L
//	> [follow] / [video] / [click KEY]
//	> [follow SCENE] / [scan SCENE]  … followed by scanning a QR code / a follower's scan (deputy:ID, station:ID)
//	> [repeat N 字]         … a text of N times 字
//	> [wait 31m]            time passes (Go duration)
//	> [as NAME]             the following messages come from NAME ("resident" is the reporter)
//	< reply line            what the bot answered (one < per line of the reply)
//	= case …                the resident's latest case as registered in SQLite
//	= sent                  the notifications queued since the last look
//	# comment
//
// {code:DEPUTY} in a message is replaced by a fresh binding code for that
// deputy. Run the tests with -update to rewrite the replies after an
// intended change, and read the diff.
package transcript

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/store"
)

// Start is when every transcript begins: 2026-11-27 10:00 in Yangquan.
var Start = time.Date(2026, 11, 27, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

// Conversation is what a transcript talks to.
type Conversation interface {
	// Send delivers one message and returns the reply's text.
	Send(t testing.TB, m *lianxin.Inbound) string
}

// Run is one transcript file played against a conversation.
type Run struct {
	File  string
	DB    *store.DB
	Clock *testenv.Clock
	Conv  Conversation
	// Update rewrites the file with the replies given now.
	Update bool
}

var msgIDs atomic.Int64

func init() { msgIDs.Store(time.Now().UnixNano() / 1000) }

// Play sends every message of the file in turn and fails the test where a
// reply, a case or a notification differs from it.
func (r Run) Play(t *testing.T) {
	t.Helper()
	b, err := os.ReadFile(r.File)
	if err != nil {
		t.Fatal(err)
	}
	name := r.File[strings.LastIndexByte(r.File, '/')+1:]
	base := "oTranscript_" + strings.TrimSuffix(name, ".txt")
	user := base
	sentSeen := int64(0)

	var out []string
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		switch {
		case strings.HasPrefix(line, "<"), strings.HasPrefix(line, "= case"), strings.HasPrefix(line, "= sent "):
			continue // expected output: regenerated below
		case line == "= sent":
			out = append(out, line)
			for _, l := range r.sentSince(t, &sentSeen, base) {
				out = append(out, "= sent "+l)
			}
		case strings.HasPrefix(line, "> [as "):
			out = append(out, line)
			who := strings.TrimSuffix(strings.TrimPrefix(line, "> [as "), "]")
			user = base
			if who != "resident" {
				user = base + "_" + who
			}
		case strings.HasPrefix(line, "> "):
			out = append(out, line)
			text := strings.TrimPrefix(line, "> ")
			if j := strings.Index(text, "{code:"); j >= 0 {
				k := strings.Index(text[j:], "}")
				code, _, err := r.DB.CreateInvite(context.Background(), text[j+6:j+k], 24*time.Hour)
				if err != nil {
					t.Fatalf("%s:%d: %v", r.File, i+1, err)
				}
				text = text[:j] + code + text[j+k+1:]
			}
			m, wait, err := Message(text, user, r.Clock.Now())
			if err != nil {
				t.Fatalf("%s:%d: %v", r.File, i+1, err)
			}
			if wait > 0 {
				r.Clock.Add(wait)
				continue
			}
			reply := r.Conv.Send(t, m)
			for _, l := range strings.Split(reply, "\n") {
				out = append(out, strings.TrimRight("< "+l, " "))
			}
			// A case line after this message in the file is re-rendered here.
			for j := i + 1; j < len(lines) && (strings.HasPrefix(lines[j], "<") || strings.HasPrefix(lines[j], "= case")); j++ {
				if strings.HasPrefix(lines[j], "= case") {
					out = append(out, "= case "+r.caseSummary(t, base))
				}
			}
		default:
			out = append(out, line)
		}
	}
	got := strings.Join(out, "\n") + "\n"
	if r.Update {
		if err := os.WriteFile(r.File, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != string(b) {
		t.Errorf("%s differs from the conversation (run with -update and read the diff):\n%s", r.File, lineDiff(string(b), got))
	}
}

// Message turns a transcript line into the message WeChat would deliver at
// now, or into a wait.
func Message(s, user string, now time.Time) (*lianxin.Inbound, time.Duration, error) {
	m := &lianxin.Inbound{Account: "gh_transcript", OpenID: user, CreateTime: now.Unix(), MsgID: msgIDs.Add(1)}
	if !strings.HasPrefix(s, "[") {
		m.Kind, m.Text = lianxin.KindText, s
		return m, 0, nil
	}
	end := strings.Index(s, "]")
	if end < 0 {
		return nil, 0, fmt.Errorf("unclosed [ in %q", s)
	}
	f := strings.Fields(s[1:end])
	rest := strings.TrimSpace(s[end+1:])
	switch f[0] {
	case "image":
		m.Kind, m.MediaID = lianxin.KindImage, fmt.Sprintf("MEDIA_%d", m.MsgID)
		m.PicURL = "http://mmbiz.qpic.cn/" + m.MediaID
	case "voice":
		m.Kind, m.MediaID, m.Text, m.Format = lianxin.KindVoice, fmt.Sprintf("VOICE_%d", m.MsgID), rest, "amr"
	case "video":
		m.Kind, m.MediaID = lianxin.KindVideo, "VIDEO_1"
	case "follow":
		m.Kind, m.Event, m.MsgID = lianxin.KindEvent, lianxin.EventSubscribe, 0
		if len(f) > 1 { // followed by scanning a QR code
			m.EventKey = "qrscene_" + f[1]
		}
	case "scan":
		if len(f) < 2 {
			return nil, 0, fmt.Errorf("[scan SCENE]")
		}
		m.Kind, m.Event, m.EventKey, m.MsgID = lianxin.KindEvent, lianxin.EventScan, f[1], 0
	case "click":
		m.Kind, m.Event, m.EventKey, m.MsgID = lianxin.KindEvent, lianxin.EventClick, f[1], 0
	case "location":
		if len(f) < 3 {
			return nil, 0, fmt.Errorf("[location LAT LNG LABEL]")
		}
		lat, err1 := strconv.ParseFloat(f[1], 64)
		lng, err2 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil {
			return nil, 0, fmt.Errorf("bad coordinates in %q", s)
		}
		m.Kind, m.Lat, m.Lng, m.Label = lianxin.KindLocation, lat, lng, strings.Join(f[3:], " ")
	case "repeat":
		n, err := strconv.Atoi(f[1])
		if err != nil || len(f) < 3 {
			return nil, 0, fmt.Errorf("[repeat N TEXT]")
		}
		m.Kind, m.Text = lianxin.KindText, strings.Repeat(f[2], n)
	case "wait":
		d, err := time.ParseDuration(f[1])
		return nil, d, err
	default:
		return nil, 0, fmt.Errorf("unknown directive %q", f[0])
	}
	return m, 0, nil
}

// sentSince lists the notifications queued since the last look, oldest
// first, with recipients named as the transcript names its people.
func (r Run) sentSince(t *testing.T, seen *int64, base string) []string {
	rows, err := r.DB.Outbox(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(rows) - 1; i >= 0; i-- {
		row := rows[i]
		if row.ID <= *seen {
			continue
		}
		*seen = row.ID
		who := row.Recipient
		switch {
		case who == base:
			who = "resident"
		case strings.HasPrefix(who, base+"_"):
			who = strings.TrimPrefix(who, base+"_")
		}
		var p struct {
			Text    string `json:"text"`
			Content string `json:"content"`
		}
		json.Unmarshal([]byte(row.Payload), &p)
		text := p.Text + p.Content
		// A notice held back or dropped on purpose says so.
		switch {
		case row.Status == lianxin.OutboxDropped:
			who += " (dropped)"
		case row.Attempts == 0 && row.NextAttempt.Sub(row.CreatedAt) >= time.Second:
			who += fmt.Sprintf(" (held %s)", row.NextAttempt.Sub(row.CreatedAt).Round(time.Second))
		}
		out = append(out, fmt.Sprintf("%s %s: %s", row.Kind, who, strings.ReplaceAll(text, "\n", " / ")))
	}
	return out
}

// caseSummary renders the resident's latest case as stored.
func (r Run) caseSummary(t *testing.T, user string) string {
	cases, err := r.DB.Cases(context.Background(), lianxin.CaseFilter{OpenID: user, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		return "(none)"
	}
	c, err := r.DB.Case(context.Background(), cases[0].Number)
	if err != nil {
		t.Fatal(err)
	}
	photos, voices := 0, 0
	for _, a := range c.Attachments {
		switch a.Kind {
		case lianxin.KindImage:
			photos++
		case lianxin.KindVoice:
			voices++
		}
	}
	s := fmt.Sprintf("%s status=%s category=%s station=%s assignee=%s photos=%d", c.Number, c.Status, c.CategoryKey, c.StationID, c.AssigneeID, photos)
	if voices > 0 {
		s += fmt.Sprintf(" voices=%d", voices)
	}
	if c.Phone != "" {
		s += " phone=" + lianxin.MaskPhone(c.Phone)
	}
	if c.Location.HasPoint() {
		s += fmt.Sprintf(" at=%.4f,%.4f", c.Location.Lat, c.Location.Lng)
	}
	if c.Location.Address != "" {
		s += " address=" + c.Location.Address
	}
	if c.NeedsStaff {
		s += " needs_staff"
	}
	if c.Satisfaction != "" {
		s += " satisfaction=" + c.Satisfaction
	}
	s += fmt.Sprintf(" description=%q", clipRunes(c.Description, 30))
	return s
}

func clipRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// lineDiff shows the first lines where want and got differ.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	shown := 0
	for i := 0; i < len(w) || i < len(g); i++ {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			fmt.Fprintf(&b, "line %d:\n  want: %s\n  got:  %s\n", i+1, a, c)
			if shown++; shown >= 8 {
				b.WriteString("  …\n")
				break
			}
		}
	}
	return b.String()
}
