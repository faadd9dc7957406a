package service_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lianxin/lianxin/internal/testenv"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

var update = flag.Bool("update", false, "rewrite the golden transcripts with the replies the service gives now")

// transcriptStart is 2026-11-27 10:00 in Yangquan.
var transcriptStart = time.Date(2026, 11, 27, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

// TestTranscripts drives each conversation in testdata/transcripts through the
// real webhook (safe mode, signed and encrypted as WeChat does) with real
// Redis and SQLite, and compares every reply with the file.
//
// A transcript is a sequence of lines:
//
//	> text                  the resident sends text
//	> [image]               … a photo
//	> [voice] words         … a voice message WeChat recognised as words ([voice] alone: not recognised)
//	> [location LAT LNG L]  … a location labelled L
//	> [follow] / [video] / [click KEY]
//	> [repeat N 字]         … a text of N times 字
//	> [wait 31m]            time passes (Go duration)
//	< reply line            what the bot answered (one < per line of the reply)
//	= case …                the resident's latest case as registered in SQLite
//	# comment
//
// Run with -update to rewrite the replies after an intended change, and read
// the diff.
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/transcripts/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".txt")
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			runTranscript(t, file)
		})
	}
}

func runTranscript(t *testing.T, file string) {
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	clock := testenv.NewClock(transcriptStart)
	ts := startService(t, testConfig(t), clock)
	c := ts.Client(wxsim.Safe)
	base := "oTranscript_" + strings.TrimSuffix(filepath.Base(file), ".txt")
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
			for _, l := range sentSince(t, ts, &sentSeen, base) {
				out = append(out, "= sent "+l)
			}
		case strings.HasPrefix(line, "> [as "):
			out = append(out, line)
			name := strings.TrimSuffix(strings.TrimPrefix(line, "> [as "), "]")
			user = base
			if name != "resident" {
				user = base + "_" + name
			}
		case strings.HasPrefix(line, "> "):
			out = append(out, line)
			text := strings.TrimPrefix(line, "> ")
			if i := strings.Index(text, "{code:"); i >= 0 {
				j := strings.Index(text[i:], "}")
				code, _, err := ts.DB.CreateInvite(context.Background(), text[i+6:i+j], 24*time.Hour)
				if err != nil {
					t.Fatalf("%s:%d: %v", file, i+1, err)
				}
				text = text[:i] + code + text[i+j+1:]
			}
			msg, wait, err := transcriptMessage(text, user)
			if err != nil {
				t.Fatalf("%s:%d: %v", file, i+1, err)
			}
			if wait > 0 {
				clock.Add(wait)
				continue
			}
			r := send(t, c, msg)
			if r.Status != 200 {
				t.Fatalf("%s:%d: HTTP %d %s", file, i+1, r.Status, r.Body)
			}
			for _, l := range strings.Split(r.Content, "\n") {
				out = append(out, strings.TrimRight("< "+l, " "))
			}
			// A case line after this message in the file is re-rendered here.
			if i+1 < len(lines) {
				for j := i + 1; j < len(lines) && (strings.HasPrefix(lines[j], "<") || strings.HasPrefix(lines[j], "= case")); j++ {
					if strings.HasPrefix(lines[j], "= case") {
						out = append(out, "= case "+caseSummary(t, ts, base))
					}
				}
			}
		default:
			out = append(out, line)
		}
	}
	got := strings.Join(out, "\n") + "\n"
	if *update {
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if got != string(b) {
		t.Errorf("%s differs from the conversation (run with -update and read the diff):\n%s", file, lineDiff(string(b), got))
	}
}

func transcriptMessage(s, user string) (wxsim.Message, time.Duration, error) {
	if !strings.HasPrefix(s, "[") {
		return wxsim.Text(user, s), 0, nil
	}
	end := strings.Index(s, "]")
	if end < 0 {
		return wxsim.Message{}, 0, fmt.Errorf("unclosed [ in %q", s)
	}
	f := strings.Fields(s[1:end])
	rest := strings.TrimSpace(s[end+1:])
	switch f[0] {
	case "image":
		id := fmt.Sprintf("MEDIA_%d", wxsim.NextMsgID())
		return wxsim.Image(user, id, "http://mmbiz.qpic.cn/"+id), 0, nil
	case "voice":
		return wxsim.Voice(user, fmt.Sprintf("VOICE_%d", wxsim.NextMsgID()), rest), 0, nil
	case "video":
		m := wxsim.Message{From: user, Type: "video", MediaID: "VIDEO_1", MsgID: wxsim.NextMsgID()}
		return m, 0, nil
	case "follow":
		return wxsim.Event(user, "subscribe", ""), 0, nil
	case "click":
		return wxsim.Event(user, "CLICK", f[1]), 0, nil
	case "location":
		if len(f) < 3 {
			return wxsim.Message{}, 0, fmt.Errorf("[location LAT LNG LABEL]")
		}
		lat, err1 := strconv.ParseFloat(f[1], 64)
		lng, err2 := strconv.ParseFloat(f[2], 64)
		if err1 != nil || err2 != nil {
			return wxsim.Message{}, 0, fmt.Errorf("bad coordinates in %q", s)
		}
		return wxsim.Location(user, lat, lng, strings.Join(f[3:], " ")), 0, nil
	case "repeat":
		n, err := strconv.Atoi(f[1])
		if err != nil || len(f) < 3 {
			return wxsim.Message{}, 0, fmt.Errorf("[repeat N TEXT]")
		}
		return wxsim.Text(user, strings.Repeat(f[2], n)), 0, nil
	case "wait":
		d, err := time.ParseDuration(f[1])
		return wxsim.Message{}, d, err
	}
	return wxsim.Message{}, 0, fmt.Errorf("unknown directive %q", f[0])
}

// sentSince lists the notifications queued since the last look, oldest
// first, with recipients named as the transcript names its people.
func sentSince(t *testing.T, ts *testService, seen *int64, base string) []string {
	rows, err := ts.DB.Outbox(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for i := len(rows) - 1; i >= 0; i-- {
		r := rows[i]
		if r.ID <= *seen {
			continue
		}
		*seen = r.ID
		who := r.Recipient
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
		json.Unmarshal([]byte(r.Payload), &p)
		text := p.Text + p.Content
		out = append(out, fmt.Sprintf("%s %s: %s", r.Kind, who, strings.ReplaceAll(text, "\n", " / ")))
	}
	return out
}

// caseSummary renders the resident's latest case as stored.
func caseSummary(t *testing.T, ts *testService, user string) string {
	cases, err := ts.DB.Cases(context.Background(), lianxin.CaseFilter{OpenID: user, Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) == 0 {
		return "(none)"
	}
	c, err := ts.DB.Case(context.Background(), cases[0].Number)
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
