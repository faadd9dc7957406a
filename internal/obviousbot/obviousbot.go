// Package obviousbot is the report bot written the obvious way on the
// silenceper/wechat SDK, as its README and an afternoon would have it. It
// exists only as lianxin's benchmark peer: the thing a team would otherwise
// deploy, built honestly and competently so that comparing lianxin against
// it means something. It is never to be deployed.
//
// What it does, per request: the SDK's server checks the signature, decrypts
// the AES envelope and parses the XML; `SET msgid:<MsgId> 1 EX 60 NX` drops
// WeChat's retries; the message is INSERTed into SQLite; the resident's
// session is a JSON document in Redis (GET, then SET with a TTL); a small
// step machine walks the report flow's happy path with the same prompts as
// configs/flows.yaml and configs/messages.yaml; 确认 INSERTs the case with a
// per-day sequence number; the SDK encrypts and sends the reply.
//
// What it deliberately lacks, because the obvious bot lacks it: ordering per
// resident (two messages from one resident race on the session's GET and
// SET), durable acknowledgement (once SETNX has marked a message, a failure
// or a lost reply loses it: WeChat's retry is dropped), routing to stations
// and deputies, and an outbox for anything sent later.
package obviousbot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3" // the SQLite driver sqlx opens as "sqlite3"
	"github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2"
	"github.com/silenceper/wechat/v2/cache"
	"github.com/silenceper/wechat/v2/officialaccount"
	offConfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/sirupsen/logrus"
)

// Config is what the bot needs.
type Config struct {
	AppID, Token, AESKey string
	// Redis holds sessions and the retry markers. The caller owns it.
	Redis *redis.Client
	// KeyPrefix starts every Redis key, so several bots can share a Redis.
	KeyPrefix string
	// DBPath is the SQLite file (created when missing).
	DBPath string
	// SessionTTL is how long an unfinished report survives; 24h when zero.
	SessionTTL time.Duration
	// Log receives handling errors; slog.Default when nil.
	Log *slog.Logger
}

// Bot is an http.Handler for the account's webhook URL.
type Bot struct {
	oa  *officialaccount.OfficialAccount
	rdb *redis.Client
	db  *sqlx.DB
	cfg Config
	log *slog.Logger
	// now is the clock for case numbers and timestamps (tests may set it).
	now func() time.Time
}

// retryTTL is how long a MsgId is remembered: WeChat retries three times
// within about 15 seconds, so a minute covers them.
const retryTTL = 60 * time.Second

// cst is China Standard Time: case numbers carry the resident's date, and
// China has no daylight saving, so a fixed zone needs no tzdata.
var cst = time.FixedZone("CST", 8*3600)

const schema = `
CREATE TABLE IF NOT EXISTS messages (
	id          INTEGER PRIMARY KEY,
	msg_id      INTEGER NOT NULL, -- 0 for events, which have none
	openid      TEXT NOT NULL,
	msg_type    TEXT NOT NULL,
	event       TEXT NOT NULL DEFAULT '',
	content     TEXT NOT NULL DEFAULT '',
	media_id    TEXT NOT NULL DEFAULT '',
	pic_url     TEXT NOT NULL DEFAULT '',
	lat         REAL NOT NULL DEFAULT 0,
	lng         REAL NOT NULL DEFAULT 0,
	label       TEXT NOT NULL DEFAULT '',
	create_time INTEGER NOT NULL, -- WeChat's CreateTime
	received_at INTEGER NOT NULL  -- unix milliseconds
);
CREATE INDEX IF NOT EXISTS messages_by_openid ON messages (openid, id);
CREATE TABLE IF NOT EXISTS cases (
	id          INTEGER PRIMARY KEY,
	number      TEXT NOT NULL UNIQUE,
	day         TEXT NOT NULL,
	seq         INTEGER NOT NULL,
	openid      TEXT NOT NULL,
	category    TEXT NOT NULL,
	description TEXT NOT NULL,
	photos      TEXT NOT NULL, -- JSON array of picture URLs
	location    TEXT NOT NULL,
	lat         REAL NOT NULL DEFAULT 0,
	lng         REAL NOT NULL DEFAULT 0,
	phone       TEXT NOT NULL DEFAULT '',
	created_at  INTEGER NOT NULL, -- unix milliseconds
	UNIQUE (day, seq)
);
CREATE INDEX IF NOT EXISTS cases_by_openid ON cases (openid, id);
`

// New opens (and if need be creates) the SQLite database and builds the
// official account once; requests then only borrow a server from it.
func New(ctx context.Context, cfg Config) (*Bot, error) {
	if cfg.Redis == nil || cfg.DBPath == "" || cfg.Token == "" || cfg.AppID == "" {
		return nil, errors.New("obviousbot: Redis, DBPath, Token and AppID are required")
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 24 * time.Hour
	}
	log := cfg.Log
	if log == nil {
		log = slog.Default()
	}
	// WAL with synchronous=NORMAL is the usual advice for a web app on
	// SQLite (commits do not wait for fsync); one connection because SQLite
	// has one writer anyway and a pool would only add SQLITE_BUSY.
	db, err := sqlx.Open("sqlite3", "file:"+cfg.DBPath+"?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=5000")
	if err != nil {
		return nil, fmt.Errorf("obviousbot: open %s: %w", cfg.DBPath, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("obviousbot: create tables: %w", err)
	}
	wc := wechat.NewWechat()
	// The SDK's init sets logrus to debug on stdout, which logs every
	// request; a deployment turns that off. The bench's bare-SDK baseline
	// does exactly the same, so both peers pay the same for logging.
	logrus.SetLevel(logrus.InfoLevel)
	logrus.SetOutput(io.Discard)
	oa := wc.GetOfficialAccount(&offConfig.Config{
		AppID: cfg.AppID, AppSecret: "unused", Token: cfg.Token, EncodingAESKey: cfg.AESKey,
		// Only access tokens go in the SDK's cache, and the webhook never
		// asks for one.
		Cache: cache.NewMemory(),
	})
	return &Bot{oa: oa, rdb: cfg.Redis, db: db, cfg: cfg, log: log, now: time.Now}, nil
}

// Close closes the database (not the Redis client, which the caller owns).
func (b *Bot) Close() error { return b.db.Close() }

// Cases counts the cases registered so far.
func (b *Bot) Cases(ctx context.Context) (int, error) {
	var n int
	err := b.db.GetContext(ctx, &n, `SELECT COUNT(*) FROM cases`)
	return n, err
}

// ServeHTTP is the webhook, as the SDK's README writes it: a server per
// request, a message handler, Serve, Send.
func (b *Bot) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	srv := b.oa.GetServer(r, w)
	handled, empty := false, false
	srv.SetMessageHandler(func(m *message.MixMessage) *message.Reply {
		handled = true
		text := b.handle(r.Context(), m)
		if text == "" {
			empty = true
			return nil
		}
		return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText(text)}
	})
	if err := srv.Serve(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if !handled {
		return // the URL check (echostr), which Serve has answered
	}
	if empty {
		// In plain mode the SDK answers a nil reply with "success" itself;
		// in safe mode it would go on to encrypt an empty document, which
		// WeChat shows as an error, so "success" is written here instead.
		if srv.Query("encrypt_type") == "aes" {
			io.WriteString(w, "success")
		}
		return
	}
	if err := srv.Send(); err != nil {
		b.log.Error("obviousbot: send reply", "err", err)
	}
}

// handle records the message and answers it; "" means no reply. Errors are
// logged and answered with an apology: WeChat would retry a failed request,
// but SETNX has already marked it, so the retry would be dropped anyway.
func (b *Bot) handle(ctx context.Context, m *message.MixMessage) string {
	fresh, err := b.firstDelivery(ctx, m)
	if err != nil {
		b.log.Error("obviousbot: retry check", "err", err)
		return txtError
	}
	if !fresh {
		return ""
	}
	if err := b.insertMessage(ctx, m); err != nil {
		b.log.Error("obviousbot: insert message", "err", err)
		return txtError
	}
	reply, err := b.respond(ctx, m)
	if err != nil {
		b.log.Error("obviousbot: handle message", "openid", m.FromUserName, "err", err)
		return txtError
	}
	return reply
}

// firstDelivery marks the message as seen and reports whether it was new.
// Events carry no MsgId; WeChat's documentation says to tell their retries
// apart by FromUserName and CreateTime.
func (b *Bot) firstDelivery(ctx context.Context, m *message.MixMessage) (bool, error) {
	id := strconv.FormatInt(m.MsgID, 10)
	if m.MsgID == 0 {
		id = string(m.FromUserName) + ":" + strconv.FormatInt(m.CreateTime, 10)
	}
	return b.rdb.SetNX(ctx, b.cfg.KeyPrefix+"msgid:"+id, 1, retryTTL).Result()
}

func (b *Bot) insertMessage(ctx context.Context, m *message.MixMessage) error {
	_, err := b.db.ExecContext(ctx, `INSERT INTO messages
		(msg_id, openid, msg_type, event, content, media_id, pic_url, lat, lng, label, create_time, received_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.MsgID, string(m.FromUserName), string(m.MsgType), string(m.Event), inputText(m), m.MediaID, m.PicURL,
		m.LocationX, m.LocationY, m.Label, m.CreateTime, b.now().UnixMilli())
	return err
}

// inputText is what a text says, or what WeChat recognised in a voice message.
func inputText(m *message.MixMessage) string {
	if m.MsgType == message.MsgTypeVoice {
		return strings.TrimSpace(m.Recognition)
	}
	return strings.TrimSpace(m.Content)
}

// session is a resident's report in progress, stored as JSON in Redis.
type session struct {
	Step string `json:"step"`
	// Editing is set by 修改 N: after that step the summary comes back.
	Editing     bool     `json:"editing,omitempty"`
	Category    int      `json:"category"` // index into categories
	Description string   `json:"description,omitempty"`
	Photos      []string `json:"photos,omitempty"` // picture URLs
	Location    string   `json:"location,omitempty"`
	Lat         float64  `json:"lat,omitempty"`
	Lng         float64  `json:"lng,omitempty"`
	Phone       string   `json:"phone,omitempty"`
}

func (b *Bot) sessionKey(openid string) string { return b.cfg.KeyPrefix + "session:" + openid }

// loadSession returns nil when the resident has no report in progress.
func (b *Bot) loadSession(ctx context.Context, openid string) (*session, error) {
	raw, err := b.rdb.Get(ctx, b.sessionKey(openid)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	s := new(session)
	if err := json.Unmarshal(raw, s); err != nil {
		// A session this code cannot read is as good as none.
		return nil, nil
	}
	return s, nil
}

func (b *Bot) saveSession(ctx context.Context, openid string, s *session) error {
	raw, err := json.Marshal(s)
	if err != nil {
		return err
	}
	return b.rdb.Set(ctx, b.sessionKey(openid), raw, b.cfg.SessionTTL).Err()
}

// respond runs one turn of the conversation.
func (b *Bot) respond(ctx context.Context, m *message.MixMessage) (string, error) {
	openid := string(m.FromUserName)
	if m.MsgType == message.MsgTypeEvent {
		if m.Event == message.EventSubscribe {
			return txtWelcome, nil
		}
		return "", nil
	}
	s, err := b.loadSession(ctx, openid)
	if err != nil {
		return "", err
	}
	text := inputText(m)
	if s == nil {
		switch text {
		case "报事", "1":
			s = &session{Step: stepCategory}
			return s.prompt(), b.saveSession(ctx, openid, s)
		case "进度", "2":
			return b.myCases(ctx, openid)
		case "帮助", "3":
			return txtHelp, nil
		}
		return txtUnknown + "\n" + txtMenu, nil
	}
	switch text {
	case "取消":
		return txtCancelled, b.rdb.Del(ctx, b.sessionKey(openid)).Err()
	case "报事":
		return txtAlreadyReporting + "\n" + s.prompt(), nil
	}
	if s.Step == stepConfirm && (text == "确认" || text == "提交") {
		number, err := b.insertCase(ctx, openid, s)
		if err != nil {
			return "", err
		}
		if err := b.rdb.Del(ctx, b.sessionKey(openid)).Err(); err != nil {
			return "", err
		}
		return fmt.Sprintf(txtSubmitted, number, categories[s.Category].acceptHours), nil
	}
	reply := s.answer(m, text)
	return reply, b.saveSession(ctx, openid, s)
}

// insertCase registers the report; the day's next number is taken in the
// same statement, so concurrent confirmations cannot share one.
func (b *Bot) insertCase(ctx context.Context, openid string, s *session) (string, error) {
	now := b.now()
	photos, err := json.Marshal(s.Photos)
	if err != nil {
		return "", err
	}
	if s.Photos == nil {
		photos = []byte("[]")
	}
	var number string
	err = b.db.GetContext(ctx, &number, `
		INSERT INTO cases (day, seq, number, openid, category, description, photos, location, lat, lng, phone, created_at)
		SELECT ?1, seq, 'KQ' || ?1 || '-' || printf('%04d', seq), ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10
		FROM (SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM cases WHERE day = ?1)
		RETURNING number`,
		now.In(cst).Format("20060102"), openid, categories[s.Category].key, s.Description, string(photos),
		s.Location, s.Lat, s.Lng, s.Phone, now.UnixMilli())
	return number, err
}

// myCases answers 进度 with the resident's latest cases.
func (b *Bot) myCases(ctx context.Context, openid string) (string, error) {
	var rows []struct {
		Number   string `db:"number"`
		Category string `db:"category"`
	}
	if err := b.db.SelectContext(ctx, &rows, `SELECT number, category FROM cases WHERE openid = ? ORDER BY id DESC LIMIT 5`, openid); err != nil {
		return "", err
	}
	if len(rows) == 0 {
		return txtNoCases, nil
	}
	var lines []string
	for _, r := range rows {
		name := r.Category
		for _, c := range categories {
			if c.key == r.Category {
				name = c.name
			}
		}
		lines = append(lines, r.Number+" "+name+" 已登记,待受理")
	}
	return fmt.Sprintf("您反映的事(最近%d件):\n%s", len(rows), strings.Join(lines, "\n")), nil
}

// The report's steps, in order.
const (
	stepCategory    = "category"
	stepDescription = "description"
	stepPhotos      = "photos"
	stepLocation    = "location"
	stepPhone       = "phone"
	stepConfirm     = "confirm"
)

var steps = []string{stepCategory, stepDescription, stepPhotos, stepLocation, stepPhone, stepConfirm}

const (
	maxPhotos      = 9
	minDescription = 5
	maxDescription = 1000
	minAddress     = 4
)

// answer takes the resident's answer to the current step and returns the
// reply: an acknowledgement and the next prompt, or why the answer will not
// do and the same prompt again.
func (s *session) answer(m *message.MixMessage, text string) string {
	isText := m.MsgType == message.MsgTypeText || m.MsgType == message.MsgTypeVoice
	switch s.Step {
	case stepCategory:
		if !isText {
			return label(s.Step) + "请回复类别前面的数字。"
		}
		for i, c := range categories {
			if text == strconv.Itoa(i+1) || text == c.name {
				s.Category = i
				return s.advance("")
			}
		}
		return txtInvalidChoice + "\n" + s.prompt()

	case stepDescription:
		if !isText {
			return label(s.Step) + "请用文字或语音描述问题。"
		}
		switch n := utf8.RuneCountInString(text); {
		case n < minDescription:
			return fmt.Sprintf("说得太简单了,请至少写%d个字。\n", minDescription) + s.prompt()
		case n > maxDescription:
			return fmt.Sprintf("内容太长了,请控制在%d字以内(现在%d字)。\n", maxDescription, n) + s.prompt()
		}
		s.Description = text
		return s.advance("")

	case stepPhotos:
		if m.MsgType == message.MsgTypeImage {
			s.Photos = append(s.Photos, m.PicURL)
			if len(s.Photos) >= maxPhotos {
				return s.advance(fmt.Sprintf("已收到%d张照片,照片已满。", len(s.Photos)))
			}
			return fmt.Sprintf("已收到第%d张照片,还可以再发%d张;发完请回复「完成」。", len(s.Photos), maxPhotos-len(s.Photos))
		}
		switch {
		case text == "跳过", text == "完成" && len(s.Photos) > 0:
			return s.advance("")
		}
		return "还没有收到照片。\n" + s.prompt()

	case stepLocation:
		if m.MsgType == message.MsgTypeLocation {
			s.Lat, s.Lng, s.Location = m.LocationX, m.LocationY, m.Label
			if s.Location == "" {
				s.Location = fmt.Sprintf("%.4f,%.4f", m.LocationX, m.LocationY)
			}
			return s.advance("已记下位置:" + s.Location + "。")
		}
		if !isText {
			return label(s.Step) + "请发送位置,或输入详细地址。"
		}
		if text == "跳过" {
			return "这一项不能跳过。\n" + s.prompt()
		}
		if utf8.RuneCountInString(text) < minAddress {
			return "地址太简单了,请写出小区和楼号,或直接发送位置。\n" + s.prompt()
		}
		s.Lat, s.Lng, s.Location = 0, 0, text
		return s.advance("已记下位置:" + text + "。")

	case stepPhone:
		if !isText {
			return label(s.Step) + "请输入11位手机号,或回复「跳过」。"
		}
		if text == "跳过" {
			s.Phone = ""
			return s.advance("")
		}
		phone, ok := mobilePhone(text)
		if !ok {
			return "手机号格式不对,请输入11位手机号,如13812345678;不方便留请回复「跳过」。\n" + s.prompt()
		}
		s.Phone = phone
		return s.advance("")

	case stepConfirm:
		if n, ok := strings.CutPrefix(strings.ReplaceAll(text, " ", ""), "修改"); ok {
			i, err := strconv.Atoi(n)
			if err != nil {
				return txtConfirmExpected + "\n" + s.prompt()
			}
			if i < 1 || i >= len(steps) {
				return fmt.Sprintf("没有第%s项,请回复「修改」加1到%d之间的数字。\n", n, len(steps)-1) + s.prompt()
			}
			s.Step, s.Editing = steps[i-1], true
			if s.Step == stepPhotos {
				s.Photos = nil // sending photos again replaces them
			}
			return s.prompt()
		}
		return txtConfirmExpected + "\n" + s.prompt()
	}
	// A step this code no longer has: start over rather than get stuck.
	*s = session{Step: stepCategory}
	return s.prompt()
}

// advance moves past the current step (back to the summary after 修改) and
// returns ack followed by the next prompt.
func (s *session) advance(ack string) string {
	if s.Editing {
		s.Step, s.Editing = stepConfirm, false
	} else {
		for i, st := range steps {
			if st == s.Step && i+1 < len(steps) {
				s.Step = steps[i+1]
				break
			}
		}
	}
	if ack == "" {
		return s.prompt()
	}
	return ack + "\n" + s.prompt()
}

func label(step string) string { return "【" + stepLabels[step] + "】" }

// prompt is the current step's question, as configs/flows.yaml words it.
func (s *session) prompt() string {
	switch s.Step {
	case stepCategory:
		return label(s.Step) + "请选择问题类别,回复数字:\n" + categoryOptions
	case stepConfirm:
		return label(s.Step) + "请核对您反映的内容:\n" + s.summary() + "\n回复「确认」提交;「修改 数字」修改对应项,如「修改 2」;「取消」放弃。"
	}
	return label(s.Step) + stepPrompts[s.Step]
}

func (s *session) summary() string {
	photos := "无"
	if len(s.Photos) > 0 {
		photos = fmt.Sprintf("%d张", len(s.Photos))
	}
	phone := "未留"
	if len(s.Phone) == 11 {
		phone = s.Phone[:3] + "****" + s.Phone[7:]
	}
	return "1. 类别:" + categories[s.Category].name +
		"\n2. 描述:" + s.Description +
		"\n3. 照片:" + photos +
		"\n4. 位置:" + s.Location +
		"\n5. 电话:" + phone
}

// mobilePhone accepts an 11-digit mainland mobile number, written with
// spaces or dashes or a +86 in front as people type them.
func mobilePhone(s string) (string, bool) {
	var d strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			d.WriteRune(r)
		case r == ' ' || r == '-' || r == '+':
		default:
			return "", false
		}
	}
	p := d.String()
	if len(p) == 13 {
		p = strings.TrimPrefix(p, "86")
	}
	if len(p) != 11 || p[0] != '1' || p[1] < '3' {
		return "", false
	}
	return p, true
}
