package configs

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(map[string]string{"LIANXIN_CONFIG": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DBPath != "./data/lianxin.db" || c.RedisURL != "redis://127.0.0.1:6379/0" || c.RedisExplicit {
		t.Errorf("defaults: %+v", c)
	}
	if c.WeChat.APIBase != DefaultAPIBase {
		t.Errorf("API base %q", c.WeChat.APIBase)
	}
}

func TestLoadLayersFileThenEnvironment(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "lianxin.yaml"), []byte("addr: 0.0.0.0:9000\ncase_prefix: PT\nsession:\n  idle_ttl: 45m\n"), 0o600)
	secret := filepath.Join(dir, "token")
	os.WriteFile(secret, []byte("s3cret\n"), 0o600)
	c, err := Load(env(map[string]string{
		"LIANXIN_CONFIG":            dir,
		"LIANXIN_CASE_PREFIX":       "KQ",
		"LIANXIN_WECHAT_TOKEN_FILE": secret,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "0.0.0.0:9000" || c.CasePrefix != "KQ" || c.Session.IdleTTL.Minutes() != 45 || c.WeChat.Token != "s3cret" {
		t.Errorf("layering: addr %s prefix %s idle %s token %q", c.Addr, c.CasePrefix, c.Session.IdleTTL, c.WeChat.Token)
	}
}

func TestInvalidConfigurationNamesTheVariable(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"LIANXIN_WECHAT_AESKEY": strings.Repeat("a", 42), "LIANXIN_WECHAT_APPID": "wx1"}, "LIANXIN_WECHAT_AESKEY: must be 43 characters, got 42"},
		{map[string]string{"LIANXIN_WECHAT_AESKEY": strings.Repeat("!", 43), "LIANXIN_WECHAT_APPID": "wx1"}, "LIANXIN_WECHAT_AESKEY"},
		{map[string]string{"LIANXIN_WECHAT_AESKEY": strings.Repeat("a", 43)}, "LIANXIN_WECHAT_APPID"},
		{map[string]string{"LIANXIN_WECHAT_APPSECRET": "secret"}, "LIANXIN_WECHAT_APPID"},
		{map[string]string{"LIANXIN_WECHAT_API_BASE": "api.weixin.qq.com"}, "LIANXIN_WECHAT_API_BASE"},
		{map[string]string{"LIANXIN_WECHAT_API_BASE": "ftp://proxy:21"}, "LIANXIN_WECHAT_API_BASE"},
		{map[string]string{"LIANXIN_PUBLIC_URL": "lianxin.example.cn"}, "LIANXIN_PUBLIC_URL"},
		{map[string]string{"LIANXIN_PUBLIC_URL": "https://lianxin.example.cn/console/"}, "LIANXIN_PUBLIC_URL"},
		{map[string]string{"LIANXIN_WECHAT_OAUTH_BASE": "open.weixin.qq.com"}, "LIANXIN_WECHAT_OAUTH_BASE"},
		{map[string]string{"LIANXIN_REDIS_URL": "localhost:6379"}, "LIANXIN_REDIS_URL"},
		{map[string]string{"LIANXIN_ADDR": "8080"}, "LIANXIN_ADDR"},
		{map[string]string{"LIANXIN_TIMEZONE": "Mars/Olympus"}, "LIANXIN_TIMEZONE"},
		{map[string]string{"LIANXIN_WECHAT_STABLE_TOKEN": "maybe"}, "LIANXIN_WECHAT_STABLE_TOKEN"},
		{map[string]string{"LIANXIN_WECHAT_TOKEN_FILE": "/nonexistent/token"}, "LIANXIN_WECHAT_TOKEN_FILE"},
	} {
		tc.env["LIANXIN_CONFIG"] = t.TempDir()
		_, err := Load(env(tc.env))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: err = %v, want it to mention %q", tc.env, err, tc.want)
		}
	}
}

func TestUnknownKeyInFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "lianxin.yaml"), []byte("adress: 1.2.3.4:5\n"), 0o600)
	if _, err := Load(env(map[string]string{"LIANXIN_CONFIG": dir})); err == nil || !strings.Contains(err.Error(), "adress") {
		t.Errorf("misspelt key: %v", err)
	}
}

func TestShippedConfigLoads(t *testing.T) {
	c, err := Load(env(map[string]string{"LIANXIN_CONFIG": "."}))
	if err != nil {
		t.Fatalf("configs/lianxin.yaml: %v", err)
	}
	if c.RedisExplicit {
		t.Error("the shipped file must leave Redis defaulted so a fresh machine falls back to the embedded one")
	}
}

// A Redis URL may carry a password; an error about it must not.
func TestRedisURLPasswordNeverShown(t *testing.T) {
	for _, u := range []string{
		"http://:s3cretpw@127.0.0.1:6379/0",   // wrong scheme
		"redis://:s3cret pw@127.0.0.1:6379/0", // does not parse
	} {
		_, err := Load(env(map[string]string{"LIANXIN_CONFIG": t.TempDir(), "LIANXIN_REDIS_URL": u}))
		if err == nil || !strings.Contains(err.Error(), "LIANXIN_REDIS_URL") {
			t.Errorf("%s: err = %v, want it refused", u, err)
			continue
		}
		if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
	for in, want := range map[string]string{
		"redis://:s3cretpw@127.0.0.1:6379/0":  "redis://:xxxxx@127.0.0.1:6379/0",
		"redis://u:s3cretpw@h:6379/2":         "redis://u:xxxxx@h:6379/2",
		"redis://h:6379/0?password=s3cretpw":  "redis://h:6379/0?password=xxxxx",
		"unix:///run/redis.sock":              "unix:///run/redis.sock",
		"redis://:s3cret pw@127.0.0.1:6379/0": "redis://(unparseable)",
		"embedded":                            "embedded",
	} {
		if got := RedactURL(in); got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
	}
}
