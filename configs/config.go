// Package configs owns the service's configuration: typed defaults, the
// station-editable data files in this directory (embedded in the binary, so
// the service runs without them), the file configs/lianxin.yaml and the
// LIANXIN_* environment, and the validation that refuses a bad start.
package configs

import (
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/lianxin/lianxin/bot/wxcrypt"
)

//go:embed *.yaml
var embedded embed.FS

// DefaultAPIBase is the real WeChat API.
const DefaultAPIBase = "https://api.weixin.qq.com"

// DefaultMediaHosts are WeChat's image CDN hosts, where PicUrls point.
func DefaultMediaHosts() []string { return []string{"mmbiz.qpic.cn", "mmbiz.qlogo.cn"} }

// Development credentials let `lianxin serve` and `lianxin sim` talk to each
// other out of the box. serve warns loudly while they are in use.
const (
	DevToken = "lianxin-dev-token"
	DevAppID = "wx00000000lianxin"
)

// Config is everything serve needs to start.
type Config struct {
	Addr string `yaml:"addr"`
	// OperatorAddr, when set, is where /metrics and /readyz are served
	// instead of Addr, so they need not face the internet with the webhook.
	OperatorAddr string `yaml:"operator_addr"`
	ConfigDir    string `yaml:"-"`
	DBPath       string `yaml:"db"`
	DataDir      string `yaml:"data_dir"`
	RedisURL     string `yaml:"redis_url"`
	CasePrefix   string `yaml:"case_prefix"`
	Timezone     string `yaml:"timezone"`
	LogLevel     string `yaml:"log_level"`

	WeChat      WeChat      `yaml:"wechat"`
	Session     Session     `yaml:"session"`
	Webhook     Webhook     `yaml:"webhook"`
	Notify      Notify      `yaml:"notify"`
	Supervision Supervision `yaml:"supervision"`
	Workers     Workers     `yaml:"workers"`
	Privacy     Privacy     `yaml:"privacy"`
	Report      Report      `yaml:"report"`
	Console     Console     `yaml:"console"`
	// Practices of issue 14: «me too» and consultations.
	MeToo         MeToo         `yaml:"metoo"`
	Consultations Consultations `yaml:"consultations"`
	// Reception days and the mass sends every practice shares (reception.go).
	Mass      Mass      `yaml:"mass"`
	Reception Reception `yaml:"reception"`

	// RedisExplicit is true when the Redis URL was set by the operator rather
	// than defaulted; only a defaulted Redis may fall back to the embedded one.
	RedisExplicit bool `yaml:"-"`
}

// WeChat is the official account's credentials and the API base all SDK calls use.
type WeChat struct {
	AppID       string `yaml:"appid"`
	AppSecret   string `yaml:"appsecret"`
	Token       string `yaml:"token"`
	AESKey      string `yaml:"aeskey"`
	AESKeyPrev  string `yaml:"aeskey_prev"`
	APIBase     string `yaml:"api_base"`
	StableToken bool   `yaml:"stable_token"`
	// TemplateID is the template message used to reach a deputy outside the
	// 48-hour customer-service window.
	TemplateID string `yaml:"template_id"`
	// AllowPlaintext accepts plaintext (明文) requests although an AES key
	// is set: only while the account is being switched to compatible or
	// safe mode. Otherwise, with a key, a request without encrypt_type=aes
	// and msg_signature is refused.
	AllowPlaintext bool `yaml:"allow_plaintext"`
	// MediaHosts are the only hosts a PicUrl is fetched from (WeChat's
	// image CDN); the API base's host is always allowed too.
	MediaHosts []string `yaml:"media_hosts"`
	// OAuthBase is where WeChat's web authorisation page is
	// (open.weixin.qq.com; the fake WeChat in tests).
	OAuthBase string `yaml:"oauth_base"`
}

// Console is the station console (/console/): the address users reach it
// at (for the links in deputies' notices, WeChat's redirect and secure
// cookies) and how long an idle session lasts.
type Console struct {
	PublicURL   string   `yaml:"public_url"`
	IdleTimeout Duration `yaml:"idle_timeout"`
}

// Session is how long conversations live in Redis.
type Session struct {
	IdleTTL  Duration `yaml:"idle_ttl"`
	DraftTTL Duration `yaml:"draft_ttl"`
}

// Webhook holds the receiver's limits.
type Webhook struct {
	MaxBody int64 `yaml:"max_body"`
	// MaxConns caps the open connections to the webhook's address; more
	// are closed at once (and counted) instead of queueing.
	MaxConns      int      `yaml:"max_conns"`
	ReplyBudget   Duration `yaml:"reply_budget"`
	TimestampSkew Duration `yaml:"timestamp_skew"`
}

// Notify is how deputies and residents are reached outside the 48-hour
// customer-service window: the template message (wechat.template_id) and how
// its fields are filled, from {title} {number} {category} {station} {deputy}
// {time} {text}.
type Notify struct {
	TemplateURL    string            `yaml:"template_url"`
	TemplateFields map[string]string `yaml:"template_fields"`
}

// Supervision (督办) is when reminders go out: at RemindAt of each deadline's
// window (0.75: three quarters of the time used), and overdue notices to the
// station head when it passes; checked every Interval.
type Supervision struct {
	RemindAt float64  `yaml:"remind_at"`
	Interval Duration `yaml:"interval"`
}

// Workers sizes the background queues.
type Workers struct {
	Media       int `yaml:"media"`
	Notify      int `yaml:"notify"`
	MaxAttempts int `yaml:"max_attempts"`
}

// Privacy is how long residents' contact details are kept: Retention after
// a case is closed, its phone number and openid are erased by serve (the
// case and its numbers stay). Zero keeps them. Checked every Interval.
type Privacy struct {
	Retention Duration `yaml:"retention"`
	Interval  Duration `yaml:"interval"`
}

// Report is how the numbers are computed: the weight each rating carries
// in the weighted 满意率 (the common 12345 one: 满意 1, 基本满意 0.9,
// 不满意 0).
type Report struct {
	SatisfactionWeights SatisfactionWeights `yaml:"satisfaction_weights"`
}

// SatisfactionWeights weigh the ratings in the weighted 满意率.
type SatisfactionWeights struct {
	Satisfied       float64 `yaml:"satisfied"`
	FairlySatisfied float64 `yaml:"fairly_satisfied"`
	Unsatisfied     float64 `yaml:"unsatisfied"`
}

// MeToo is when a new report is offered to join an open case nearby
// (同一件): same category, within RadiusM metres, registered within Window.
// A radius of 0 turns the offer off.
type MeToo struct {
	RadiusM float64  `yaml:"radius_m"`
	Window  Duration `yaml:"window"`
}

// Consultations are the consultations on draft regulations' settings:
// MassQuota is how many mass sends (群发) a follower may get in a month
// (WeChat allows a service account 4). Deprecated: mass.quota, which every
// practice shares (Config.MassQuota reads either).
type Consultations struct {
	MassQuota int `yaml:"mass_quota"`
}

// Duration reads "30m" style durations from YAML, and days ("1095d").
type Duration struct{ time.Duration }

// UnmarshalYAML parses a Go duration string.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := time.ParseDuration(n.Value)
	if days, ok := strings.CutSuffix(n.Value, "d"); ok && err != nil {
		var k int
		if k, err = strconv.Atoi(days); err == nil && k >= 0 {
			v = time.Duration(k) * 24 * time.Hour
		} else {
			err = fmt.Errorf("bad days")
		}
	}
	if err != nil {
		return fmt.Errorf("line %d: %q is not a duration like 30m, 24h or 1095d", n.Line, n.Value)
	}
	d.Duration = v
	return nil
}

// Default is the configuration with nothing set.
func Default() Config {
	return Config{
		Addr:       "127.0.0.1:8080",
		ConfigDir:  "./configs",
		DBPath:     "./data/lianxin.db",
		DataDir:    "./data",
		RedisURL:   "redis://127.0.0.1:6379/0",
		CasePrefix: "KQ",
		Timezone:   "Asia/Shanghai",
		LogLevel:   "info",
		WeChat:     WeChat{APIBase: DefaultAPIBase, MediaHosts: DefaultMediaHosts(), OAuthBase: "https://open.weixin.qq.com"},
		Console:    Console{IdleTimeout: Duration{2 * time.Hour}},
		Session:    Session{IdleTTL: Duration{30 * time.Minute}, DraftTTL: Duration{24 * time.Hour}},
		Webhook: Webhook{
			MaxBody:       64 << 10,
			MaxConns:      1024,
			ReplyBudget:   Duration{4 * time.Second},
			TimestampSkew: Duration{5 * time.Minute},
		},
		Workers: Workers{Media: 32, Notify: 4, MaxAttempts: 12},
		Notify: Notify{TemplateFields: map[string]string{
			"first": "{title}", "keyword1": "{number}", "keyword2": "{category}",
			"keyword3": "{time}", "remark": "{text}",
		}},
		Supervision: Supervision{RemindAt: 0.75, Interval: Duration{time.Minute}},
		Privacy:     Privacy{Retention: Duration{3 * 365 * 24 * time.Hour}, Interval: Duration{time.Hour}},
		Report:      Report{SatisfactionWeights: SatisfactionWeights{Satisfied: 1, FairlySatisfied: 0.9}},

		MeToo:         MeToo{RadiusM: 250, Window: Duration{30 * 24 * time.Hour}},
		Consultations: Consultations{MassQuota: 4},
		Mass:          DefaultMass,
		Reception:     DefaultReception,
	}
}

// envVar binds one LIANXIN_* variable to a config field.
type envVar struct {
	name string
	set  func(c *Config, v string) error
}

func str(f func(c *Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *f(c) = v; return nil }
}

var envVars = []envVar{
	{"LIANXIN_ADDR", str(func(c *Config) *string { return &c.Addr })},
	{"LIANXIN_OPERATOR_ADDR", str(func(c *Config) *string { return &c.OperatorAddr })},
	{"LIANXIN_MAX_CONNS", func(c *Config, v string) error {
		n, err := strconv.Atoi(v)
		c.Webhook.MaxConns = n
		return err
	}},
	{"LIANXIN_DB", str(func(c *Config) *string { return &c.DBPath })},
	{"LIANXIN_DATA_DIR", str(func(c *Config) *string { return &c.DataDir })},
	{"LIANXIN_REDIS_URL", func(c *Config, v string) error { c.RedisURL, c.RedisExplicit = v, true; return nil }},
	{"LIANXIN_CASE_PREFIX", str(func(c *Config) *string { return &c.CasePrefix })},
	{"LIANXIN_TIMEZONE", str(func(c *Config) *string { return &c.Timezone })},
	{"LIANXIN_LOG_LEVEL", str(func(c *Config) *string { return &c.LogLevel })},
	{"LIANXIN_WECHAT_APPID", str(func(c *Config) *string { return &c.WeChat.AppID })},
	{"LIANXIN_WECHAT_APPSECRET", str(func(c *Config) *string { return &c.WeChat.AppSecret })},
	{"LIANXIN_WECHAT_TOKEN", str(func(c *Config) *string { return &c.WeChat.Token })},
	{"LIANXIN_WECHAT_AESKEY", str(func(c *Config) *string { return &c.WeChat.AESKey })},
	{"LIANXIN_WECHAT_AESKEY_PREV", str(func(c *Config) *string { return &c.WeChat.AESKeyPrev })},
	{"LIANXIN_WECHAT_API_BASE", str(func(c *Config) *string { return &c.WeChat.APIBase })},
	{"LIANXIN_WECHAT_TEMPLATE_ID", str(func(c *Config) *string { return &c.WeChat.TemplateID })},
	{"LIANXIN_WECHAT_ALLOW_PLAINTEXT", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		c.WeChat.AllowPlaintext = b
		return err
	}},
	{"LIANXIN_WECHAT_MEDIA_HOSTS", func(c *Config, v string) error {
		c.WeChat.MediaHosts = nil
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				c.WeChat.MediaHosts = append(c.WeChat.MediaHosts, h)
			}
		}
		return nil
	}},
	{"LIANXIN_WECHAT_OAUTH_BASE", str(func(c *Config) *string { return &c.WeChat.OAuthBase })},
	{"LIANXIN_PUBLIC_URL", str(func(c *Config) *string { return &c.Console.PublicURL })},
	{"LIANXIN_WECHAT_STABLE_TOKEN", func(c *Config, v string) error {
		b, err := strconv.ParseBool(v)
		c.WeChat.StableToken = b
		return err
	}},
}

// Load builds the configuration: defaults, then $LIANXIN_CONFIG/lianxin.yaml
// (when present), then the environment. getenv is os.Getenv in production.
func Load(getenv func(string) string) (Config, error) {
	c := Default()
	lookup := func(name string) (string, bool, error) {
		if v := getenv(name); v != "" {
			return v, true, nil
		}
		if p := getenv(name + "_FILE"); p != "" {
			b, err := os.ReadFile(p)
			if err != nil {
				return "", false, fmt.Errorf("%s_FILE: %w", name, err)
			}
			return strings.TrimSpace(string(b)), true, nil
		}
		return "", false, nil
	}
	if v, ok, err := lookup("LIANXIN_CONFIG"); err != nil {
		return c, err
	} else if ok {
		c.ConfigDir = v
	}
	if b, err := os.ReadFile(filepath.Join(c.ConfigDir, "lianxin.yaml")); err == nil {
		dec := yaml.NewDecoder(strings.NewReader(string(b)))
		dec.KnownFields(true)
		if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
			return c, fmt.Errorf("%s: %w", filepath.Join(c.ConfigDir, "lianxin.yaml"), err)
		}
		if c.RedisURL != Default().RedisURL {
			c.RedisExplicit = true
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return c, fmt.Errorf("LIANXIN_CONFIG: %w", err)
	}
	for _, e := range envVars {
		v, ok, err := lookup(e.name)
		if err != nil {
			return c, err
		}
		if !ok {
			continue
		}
		if err := e.set(&c, v); err != nil {
			return c, fmt.Errorf("%s: %q is not valid: %v", e.name, v, err)
		}
	}
	return c, c.Validate()
}

// DevCredentials reports whether the development token is in use, so serve can warn.
func (c *Config) DevCredentials() bool { return c.WeChat.Token == "" || c.WeChat.Token == DevToken }

// CheckDevToken refuses the development token where it would be a real
// account's: it is public (it is in the source), so anyone could sign
// messages with it. It is for trying lianxin out on this machine: without
// the AppSecret or EncodingAESKey of a real account, listening on loopback.
func (c *Config) CheckDevToken() error {
	if !c.DevCredentials() {
		return nil
	}
	const set = "LIANXIN_WECHAT_TOKEN: set the Token of the account's server configuration: the development token is public"
	switch {
	case c.WeChat.AppSecret != "":
		return errors.New(set + ", and LIANXIN_WECHAT_APPSECRET says this is a real account")
	case c.WeChat.AESKey != "":
		return errors.New(set + ", and LIANXIN_WECHAT_AESKEY says this is a real account")
	case !Loopback(c.Addr):
		return fmt.Errorf("%s, and LIANXIN_ADDR %s listens beyond this machine", set, c.Addr)
	}
	return nil
}

// Loopback reports whether a host:port listens on this machine only.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// RedactURL is a URL (LIANXIN_REDIS_URL) fit for logs and errors: its
// password, in the user part or as a password parameter, replaced. One
// that does not parse keeps only its scheme, as its password could be
// anywhere in it.
func RedactURL(s string) string {
	if IsSentinelURL(s) {
		return redactSentinel(s)
	}
	u, err := url.Parse(s)
	if err != nil {
		if scheme, _, ok := strings.Cut(s, "://"); ok && !strings.ContainsAny(scheme, ":@/") {
			return scheme + "://(unparseable)"
		}
		return "(unparseable)"
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if q := u.Query(); q.Has("password") {
		q.Set("password", "xxxxx")
		u.RawQuery = q.Encode()
	}
	return u.String()
}

// ApplyDevDefaults fills the development token and app id when none are set.
func (c *Config) ApplyDevDefaults() {
	if c.WeChat.Token == "" {
		c.WeChat.Token = DevToken
	}
	if c.WeChat.AppID == "" {
		c.WeChat.AppID = DevAppID
	}
}

// Validate refuses configuration that would fail later, naming the variable.
func (c *Config) Validate() error {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("LIANXIN_ADDR", "%q is not host:port (%v)", c.Addr, err)
	}
	if c.OperatorAddr != "" {
		if _, port, err := net.SplitHostPort(c.OperatorAddr); err != nil {
			bad("LIANXIN_OPERATOR_ADDR", "%q is not host:port (%v)", c.OperatorAddr, err)
		} else if c.OperatorAddr == c.Addr && port != "0" {
			bad("LIANXIN_OPERATOR_ADDR", "is LIANXIN_ADDR; leave it unset to serve /metrics and /readyz there")
		}
	}
	if c.Webhook.MaxConns < 1 {
		bad("LIANXIN_MAX_CONNS", "must be at least 1 (webhook.max_conns)")
	}
	for _, h := range c.WeChat.MediaHosts {
		if h == "" || strings.ContainsAny(h, "/ ") {
			bad("LIANXIN_WECHAT_MEDIA_HOSTS", "%q is not a host name (like mmbiz.qpic.cn)", h)
		}
	}
	if c.DBPath == "" {
		bad("LIANXIN_DB", "must not be empty")
	}
	if c.DataDir == "" {
		bad("LIANXIN_DATA_DIR", "must not be empty")
	}
	if IsSentinelURL(c.RedisURL) {
		if _, err := ParseSentinelURL(c.RedisURL); err != nil {
			bad("LIANXIN_REDIS_URL", "%s: %v", RedactURL(c.RedisURL), err)
		}
	} else if c.RedisURL != "embedded" {
		if u, err := url.Parse(c.RedisURL); err != nil || (u.Scheme != "redis" && u.Scheme != "rediss" && u.Scheme != "unix") || (u.Scheme != "unix" && u.Host == "") {
			bad("LIANXIN_REDIS_URL", "%s is not a redis:// URL (or redis-sentinel://, or \"embedded\")", RedactURL(c.RedisURL))
		}
	}
	for _, k := range []struct{ name, v string }{
		{"LIANXIN_WECHAT_AESKEY", c.WeChat.AESKey},
		{"LIANXIN_WECHAT_AESKEY_PREV", c.WeChat.AESKeyPrev},
	} {
		if k.v == "" {
			continue
		}
		if err := CheckAESKey(k.v); err != nil {
			bad(k.name, "%v", err)
		}
	}
	if c.WeChat.AESKeyPrev != "" && c.WeChat.AESKey == "" {
		bad("LIANXIN_WECHAT_AESKEY_PREV", "set without LIANXIN_WECHAT_AESKEY")
	}
	if c.WeChat.AESKey != "" && c.WeChat.AppID == "" {
		bad("LIANXIN_WECHAT_APPID", "required when LIANXIN_WECHAT_AESKEY is set (it is checked inside every encrypted message)")
	}
	if c.WeChat.AppSecret != "" && c.WeChat.AppID == "" {
		bad("LIANXIN_WECHAT_APPID", "required when LIANXIN_WECHAT_APPSECRET is set (the WeChat API wants both)")
	}
	if u, err := url.Parse(c.WeChat.APIBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("LIANXIN_WECHAT_API_BASE", "%q is not an http(s) URL", c.WeChat.APIBase)
	}
	if u, err := url.Parse(c.WeChat.OAuthBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("LIANXIN_WECHAT_OAUTH_BASE", "%q is not an http(s) URL", c.WeChat.OAuthBase)
	}
	if c.Console.PublicURL != "" {
		if u, err := url.Parse(c.Console.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("LIANXIN_PUBLIC_URL", "%q is not an http(s) URL of the host (like https://lianxin.example.cn)", c.Console.PublicURL)
		}
	}
	if c.Console.IdleTimeout.Duration < time.Minute {
		bad("console.idle_timeout", "must be at least 1m")
	}
	if strings.ContainsAny(c.WeChat.Token, " \t\r\n") {
		bad("LIANXIN_WECHAT_TOKEN", "must not contain spaces")
	}
	if c.CasePrefix == "" || len(c.CasePrefix) > 8 {
		bad("LIANXIN_CASE_PREFIX", "must be 1 to 8 letters")
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil {
		bad("LIANXIN_TIMEZONE", "%q is not a time zone", c.Timezone)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("LIANXIN_LOG_LEVEL", "%q is not one of debug, info, warn, error", c.LogLevel)
	}
	if c.Session.IdleTTL.Duration < time.Minute || c.Session.DraftTTL.Duration < c.Session.IdleTTL.Duration {
		bad("session", "idle_ttl must be at least 1m and draft_ttl at least idle_ttl")
	}
	if c.Webhook.MaxBody < 1024 {
		bad("webhook.max_body", "must be at least 1024")
	}
	if b := c.Webhook.ReplyBudget.Duration; b <= 0 || b > 4500*time.Millisecond {
		bad("webhook.reply_budget", "must be between 0 and 4.5s: WeChat gives up after 5s")
	}
	if c.Supervision.RemindAt <= 0 || c.Supervision.RemindAt >= 1 {
		bad("supervision.remind_at", "must be between 0 and 1 (the share of a deadline's window after which the reminder goes out)")
	}
	if c.Supervision.Interval.Duration < time.Second {
		bad("supervision.interval", "must be at least 1s")
	}
	if c.MeToo.RadiusM < 0 || c.MeToo.RadiusM > 5000 {
		bad("metoo.radius_m", "must be between 0 (no offer) and 5000 metres")
	}
	if c.MeToo.RadiusM > 0 && c.MeToo.Window.Duration < time.Hour {
		bad("metoo.window", "must be at least 1h (how recent an open case must be to be offered)")
	}
	c.validateReception(bad)
	if c.Consultations.MassQuota < 1 || c.Consultations.MassQuota > 100 {
		bad("consultations.mass_quota", "must be between 1 and 100 (WeChat allows a service account 4 mass sends a month)")
	}
	if r := c.Privacy.Retention.Duration; r != 0 && r < 30*24*time.Hour {
		bad("privacy.retention", "must be 0 (keep) or at least 30d: residents rate and reopen cases for days after they are closed")
	}
	if c.Privacy.Interval.Duration < time.Minute {
		bad("privacy.interval", "must be at least 1m")
	}
	if w := c.Report.SatisfactionWeights; !between01(w.Satisfied) || !between01(w.FairlySatisfied) || !between01(w.Unsatisfied) || w.Satisfied == 0 {
		bad("report.satisfaction_weights", "each must be between 0 and 1, and satisfied above 0")
	}
	if c.Workers.Media < 1 || c.Workers.Notify < 1 || c.Workers.MaxAttempts < 1 {
		bad("workers", "media, notify and max_attempts must be at least 1")
	}
	return errors.Join(errs...)
}

func between01(v float64) bool { return v >= 0 && v <= 1 }

// CheckAESKey checks an EncodingAESKey: 43 characters of base64 that decode to 32 bytes.
func CheckAESKey(k string) error {
	_, err := wxcrypt.DecodeKey(k)
	return err
}

// Location is the configured time zone (validated at load).
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return time.FixedZone("CST", 8*3600)
	}
	return loc
}

// ReadData returns a station-editable data file: the copy in dir when there is
// one, else the copy embedded in the binary.
func ReadData(dir, name string) ([]byte, error) {
	if dir != "" {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err == nil {
			return b, nil
		} else if !errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
	}
	return embedded.ReadFile(name)
}
