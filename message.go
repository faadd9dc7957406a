package lianxin

import (
	"strconv"
	"strings"
	"time"
)

// MsgKind is what kind of thing a resident sent, in WeChat's own vocabulary.
type MsgKind string

// Message kinds WeChat delivers to an official account.
const (
	KindText       MsgKind = "text"
	KindImage      MsgKind = "image"
	KindVoice      MsgKind = "voice"
	KindVideo      MsgKind = "video"
	KindShortVideo MsgKind = "shortvideo"
	KindLocation   MsgKind = "location"
	KindLink       MsgKind = "link"
	KindFile       MsgKind = "file"
	KindEvent      MsgKind = "event"
)

// Events that matter to the conversation.
const (
	EventSubscribe   = "subscribe"
	EventUnsubscribe = "unsubscribe"
	EventClick       = "CLICK"
	EventLocation    = "LOCATION"
)

// Inbound is one message or event a user sent to the official account, after
// the webhook verified, decrypted and parsed it.
type Inbound struct {
	Account    string  `json:"a,omitempty"` // ToUserName: the official account's original id
	OpenID     string  `json:"u"`           // FromUserName
	Kind       MsgKind `json:"k"`
	MsgID      int64   `json:"i,omitempty"`
	CreateTime int64   `json:"t"`
	Text       string  `json:"x,omitempty"` // Content, or a voice message's Recognition
	MediaID    string  `json:"m,omitempty"`
	PicURL     string  `json:"p,omitempty"`
	Format     string  `json:"f,omitempty"`
	Lat        float64 `json:"la,omitempty"`
	Lng        float64 `json:"ln,omitempty"`
	Label      string  `json:"lb,omitempty"`
	Title      string  `json:"ti,omitempty"`
	URL        string  `json:"ur,omitempty"`
	Event      string  `json:"e,omitempty"`
	EventKey   string  `json:"ek,omitempty"`
	// JournalID is the message's row in the durable journal; set once journaled.
	JournalID int64 `json:"j,omitempty"`
}

// Key identifies a message across WeChat's retries: the MsgId for messages and,
// because events carry none, FromUserName+CreateTime+Event for events, plus
// the EventKey so two different menu clicks within one second stay two.
func (m *Inbound) Key() string {
	if m.Kind != KindEvent && m.MsgID != 0 {
		return strconv.FormatInt(m.MsgID, 10)
	}
	var b strings.Builder
	b.Grow(len(m.OpenID) + len(m.Event) + len(m.EventKey) + 26)
	b.WriteString("e:")
	b.WriteString(m.OpenID)
	b.WriteByte(':')
	b.WriteString(strconv.FormatInt(m.CreateTime, 10))
	b.WriteByte(':')
	b.WriteString(m.Event)
	if m.EventKey != "" {
		b.WriteByte(':')
		b.WriteString(m.EventKey)
	}
	return b.String()
}

// Received is when WeChat says the user sent the message.
func (m *Inbound) Received() time.Time { return time.Unix(m.CreateTime, 0) }

// Summary is the message as one line for the journal and transcripts:
// the text, the media id, or the place.
func (m *Inbound) Summary() string {
	switch m.Kind {
	case KindText, KindVoice:
		if m.Text != "" {
			return m.Text
		}
		return m.MediaID
	case KindLocation:
		return strconv.FormatFloat(m.Lat, 'f', 6, 64) + "," + strconv.FormatFloat(m.Lng, 'f', 6, 64) + " " + m.Label
	case KindLink:
		return m.Title + " " + m.URL
	case KindEvent:
		if m.EventKey != "" {
			return m.Event + " " + m.EventKey
		}
		return m.Event
	default:
		return m.MediaID
	}
}

// Reply is what the bot answers a message with. An empty Reply means "nothing to
// say" and the webhook answers WeChat with "success".
type Reply struct {
	Text string `json:"x,omitempty"`
	// Recorded is set when producing the reply wrote to the database (a
	// case registered, a photo attached, a deputy's action): the reply
	// acknowledges it, so it may leave only once that write is on disk.
	Recorded bool `json:"r,omitempty"`
}

// Empty reports whether there is nothing to send.
func (r Reply) Empty() bool { return r.Text == "" }
