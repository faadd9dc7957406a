// Package wxsim plays WeChat's side of the webhook protocol: it builds
// requests exactly as WeChat's servers do (XML body, signature, and in safe
// or compatible mode the AES envelope and msg_signature) and opens the
// replies. Tests, `lianxin sim` and `lianxin bench` drive the real webhook
// through it. It reads replies with encoding/xml, independently of the
// webhook's own parser.
package wxsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/lianxin/lianxin/bot/wxcrypt"
)

// Mode is how WeChat posts messages to the account.
type Mode string

// The three modes an official account can choose in its console.
const (
	Plain  Mode = "plain"  // 明文模式
	Compat Mode = "compat" // 兼容模式: plaintext fields and the ciphertext side by side
	Safe   Mode = "aes"    // 安全模式
)

// Client posts messages to a webhook as WeChat would.
type Client struct {
	URL     string // e.g. http://127.0.0.1:8080/wechat
	Token   string
	AppID   string
	AESKey  string
	Account string // the official account's original id (ToUserName)
	Mode    Mode
	HTTP    *http.Client
	// Now is the clock used for timestamps and CreateTime.
	Now func() time.Time
}

var msgIDs atomic.Int64

func init() { msgIDs.Store(time.Now().UnixNano() / 1000) }

// NextMsgID returns a fresh MsgId, as WeChat assigns them.
func NextMsgID() int64 { return msgIDs.Add(1) }

// Message is what a user sends. Zero fields are left out of the XML.
type Message struct {
	From        string
	Type        string // text, image, voice, video, location, link, event
	Content     string
	MsgID       int64
	CreateTime  int64
	PicURL      string
	MediaID     string
	Format      string
	Recognition string
	LocationX   float64
	LocationY   float64
	Scale       int
	Label       string
	Event       string
	EventKey    string
}

// Text is a text message from a user.
func Text(from, content string) Message {
	return Message{From: from, Type: "text", Content: content, MsgID: NextMsgID()}
}

// Image is a photo from a user.
func Image(from, mediaID, picURL string) Message {
	return Message{From: from, Type: "image", MediaID: mediaID, PicURL: picURL, MsgID: NextMsgID()}
}

// Voice is a voice message with WeChat's speech recognition text.
func Voice(from, mediaID, recognition string) Message {
	return Message{From: from, Type: "voice", MediaID: mediaID, Format: "amr", Recognition: recognition, MsgID: NextMsgID()}
}

// Location is a location message.
func Location(from string, lat, lng float64, label string) Message {
	return Message{From: from, Type: "location", LocationX: lat, LocationY: lng, Scale: 15, Label: label, MsgID: NextMsgID()}
}

// Event is an event push (subscribe, CLICK...).
func Event(from, event, key string) Message {
	return Message{From: from, Type: "event", Event: event, EventKey: key}
}

func cdata(b *bytes.Buffer, name, v string) {
	b.WriteString("<" + name + "><![CDATA[")
	b.WriteString(strings.ReplaceAll(v, "]]>", "]]]]><![CDATA[>"))
	b.WriteString("]]></" + name + ">")
}

// XML renders the message body as WeChat does.
func (m Message) XML(account string) []byte {
	var b bytes.Buffer
	b.WriteString("<xml>")
	cdata(&b, "ToUserName", account)
	cdata(&b, "FromUserName", m.From)
	b.WriteString("<CreateTime>" + strconv.FormatInt(m.CreateTime, 10) + "</CreateTime>")
	cdata(&b, "MsgType", m.Type)
	switch m.Type {
	case "text":
		cdata(&b, "Content", m.Content)
	case "image":
		cdata(&b, "PicUrl", m.PicURL)
		cdata(&b, "MediaId", m.MediaID)
	case "voice":
		cdata(&b, "MediaId", m.MediaID)
		cdata(&b, "Format", m.Format)
		cdata(&b, "Recognition", m.Recognition)
	case "video", "shortvideo":
		cdata(&b, "MediaId", m.MediaID)
		cdata(&b, "ThumbMediaId", m.MediaID+"_thumb")
	case "location":
		b.WriteString("<Location_X>" + strconv.FormatFloat(m.LocationX, 'f', -1, 64) + "</Location_X>")
		b.WriteString("<Location_Y>" + strconv.FormatFloat(m.LocationY, 'f', -1, 64) + "</Location_Y>")
		b.WriteString("<Scale>" + strconv.Itoa(m.Scale) + "</Scale>")
		cdata(&b, "Label", m.Label)
	case "event":
		cdata(&b, "Event", m.Event)
		cdata(&b, "EventKey", m.EventKey)
	default:
		if m.Content != "" {
			cdata(&b, "Content", m.Content)
		}
		if m.MediaID != "" {
			cdata(&b, "MediaId", m.MediaID)
		}
	}
	if m.MsgID != 0 {
		b.WriteString("<MsgId>" + strconv.FormatInt(m.MsgID, 10) + "</MsgId>")
	}
	b.WriteString("</xml>")
	return b.Bytes()
}

// Nonce returns a random nonce as WeChat sends them (digits).
func Nonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	n := uint64(0)
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return strconv.FormatUint(n%10_000_000_000, 10)
}

// Request is a built webhook request, ready to send (or to tamper with).
type Request struct {
	Query url.Values
	Body  []byte
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

// Build renders the message into a request as WeChat would send it now.
func (c *Client) Build(m Message) (*Request, error) {
	if m.CreateTime == 0 {
		m.CreateTime = c.now().Unix()
	}
	ts := strconv.FormatInt(c.now().Unix(), 10)
	return c.BuildAt(m, ts, Nonce())
}

// BuildAt renders the message with the given timestamp and nonce.
func (c *Client) BuildAt(m Message, timestamp, nonce string) (*Request, error) {
	if m.CreateTime == 0 {
		m.CreateTime = c.now().Unix()
	}
	plain := m.XML(c.Account)
	q := url.Values{}
	q.Set("signature", wxcrypt.Signature(c.Token, timestamp, nonce))
	q.Set("timestamp", timestamp)
	q.Set("nonce", nonce)
	q.Set("openid", m.From)
	if c.Mode == "" || c.Mode == Plain {
		return &Request{Query: q, Body: plain}, nil
	}
	key, err := wxcrypt.DecodeKey(c.AESKey)
	if err != nil {
		return nil, fmt.Errorf("wxsim: %w", err)
	}
	enc := wxcrypt.Encrypt(key, c.AppID, plain)
	q.Set("encrypt_type", "aes")
	q.Set("msg_signature", wxcrypt.Signature(c.Token, timestamp, nonce, enc))
	var b bytes.Buffer
	if c.Mode == Compat {
		// Compatible mode: the plaintext document with <Encrypt> added.
		b.Write(bytes.TrimSuffix(plain, []byte("</xml>")))
		cdata(&b, "Encrypt", enc)
		b.WriteString("</xml>")
	} else {
		b.WriteString("<xml>")
		cdata(&b, "ToUserName", c.Account)
		cdata(&b, "Encrypt", enc)
		b.WriteString("</xml>")
	}
	return &Request{Query: q, Body: b.Bytes()}, nil
}

// Reply is what the webhook answered.
type Reply struct {
	Status     int
	Body       []byte // as received
	XML        []byte // the reply document, decrypted when it was encrypted
	Encrypted  bool
	To, From   string
	MsgType    string
	Content    string
	CreateTime int64
	Latency    time.Duration
}

// Empty reports whether the webhook had nothing to say ("success" or "").
func (r *Reply) Empty() bool {
	b := bytes.TrimSpace(r.Body)
	return len(b) == 0 || string(b) == "success"
}

// Send builds and posts a message, and opens the reply.
func (c *Client) Send(ctx context.Context, m Message) (*Reply, error) {
	req, err := c.Build(m)
	if err != nil {
		return nil, err
	}
	return c.Do(ctx, req)
}

// Do posts a built request and opens the reply.
func (c *Client) Do(ctx context.Context, r *Request) (*Reply, error) {
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	u := c.URL + "?" + r.Query.Encode()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, u, bytes.NewReader(r.Body))
	if err != nil {
		return nil, err
	}
	hreq.Header.Set("Content-Type", "text/xml")
	start := time.Now()
	resp, err := hc.Do(hreq)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	rep := &Reply{Status: resp.StatusCode, Body: body, Latency: time.Since(start)}
	if resp.StatusCode != http.StatusOK || rep.Empty() {
		return rep, nil
	}
	return rep, c.open(rep, r.Query)
}

type encryptedReply struct {
	Encrypt      string `xml:"Encrypt"`
	MsgSignature string `xml:"MsgSignature"`
	TimeStamp    string `xml:"TimeStamp"`
	Nonce        string `xml:"Nonce"`
}

type plainReply struct {
	ToUserName   string `xml:"ToUserName"`
	FromUserName string `xml:"FromUserName"`
	CreateTime   int64  `xml:"CreateTime"`
	MsgType      string `xml:"MsgType"`
	Content      string `xml:"Content"`
}

func (c *Client) open(rep *Reply, q url.Values) error {
	doc := rep.Body
	if q.Get("encrypt_type") == "aes" {
		var e encryptedReply
		if err := xml.Unmarshal(rep.Body, &e); err != nil {
			return fmt.Errorf("wxsim: encrypted reply: %w", err)
		}
		if e.Encrypt == "" {
			return fmt.Errorf("wxsim: reply to an encrypted request is not encrypted: %s", rep.Body)
		}
		if wxcrypt.Signature(c.Token, e.TimeStamp, e.Nonce, e.Encrypt) != e.MsgSignature {
			return errors.New("wxsim: reply msg_signature does not verify")
		}
		key, err := wxcrypt.DecodeKey(c.AESKey)
		if err != nil {
			return fmt.Errorf("wxsim: %w", err)
		}
		_, plain, err := wxcrypt.Decrypt(key, c.AppID, e.Encrypt)
		if err != nil {
			return err
		}
		doc = plain
		rep.Encrypted = true
	}
	var p plainReply
	if err := xml.Unmarshal(doc, &p); err != nil {
		return fmt.Errorf("wxsim: reply: %w", err)
	}
	rep.XML = doc
	rep.To, rep.From, rep.MsgType, rep.Content, rep.CreateTime = p.ToUserName, p.FromUserName, p.MsgType, p.Content, p.CreateTime
	return nil
}

// NewAESKey returns a random EncodingAESKey as the WeChat console generates one.
func NewAESKey() string { return wxcrypt.NewKey() }
