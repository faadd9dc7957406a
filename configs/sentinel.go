package configs

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// SentinelURL is LIANXIN_REDIS_URL naming a Redis watched by Sentinel:
//
//	redis-sentinel://[[USER]:PASSWORD@]HOST:PORT[,HOST:PORT…]/MASTER[?db=N&sentinel_password=P&sentinel_username=U]
//
// The hosts are the sentinels; MASTER is the name they know the master by;
// the user part is the master's credentials (as in redis://), the
// sentinel_* parameters the sentinels' own when they require them.
type SentinelURL struct {
	Sentinels                          []string
	Master                             string
	DB                                 int
	Username, Password                 string
	SentinelUsername, SentinelPassword string
}

// IsSentinelURL reports whether s names a Redis watched by Sentinel.
func IsSentinelURL(s string) bool { return strings.HasPrefix(s, "redis-sentinel://") }

// ParseSentinelURL reads a redis-sentinel:// URL. Its errors never quote
// the URL (it may hold passwords).
func ParseSentinelURL(s string) (SentinelURL, error) {
	var out SentinelURL
	rest, ok := strings.CutPrefix(s, "redis-sentinel://")
	if !ok {
		return out, fmt.Errorf("not a redis-sentinel:// URL")
	}
	rest, query, _ := strings.Cut(rest, "?")
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		user, pass, hasPass := strings.Cut(rest[:at], ":")
		var err error
		if out.Username, err = url.PathUnescape(user); err != nil {
			return out, fmt.Errorf("bad user name")
		}
		if hasPass {
			if out.Password, err = url.PathUnescape(pass); err != nil {
				return out, fmt.Errorf("bad password")
			}
		}
		rest = rest[at+1:]
	}
	hosts, master, _ := strings.Cut(rest, "/")
	for _, h := range strings.Split(hosts, ",") {
		host, port, err := net.SplitHostPort(strings.TrimSpace(h))
		if err != nil || host == "" {
			return out, fmt.Errorf("sentinel address %q is not HOST:PORT", h)
		}
		if p, err := strconv.Atoi(port); err != nil || p < 1 || p > 65535 {
			return out, fmt.Errorf("sentinel address %q has no valid port", h)
		}
		out.Sentinels = append(out.Sentinels, net.JoinHostPort(host, port))
	}
	out.Master = strings.Trim(master, "/")
	if out.Master == "" || strings.Contains(out.Master, "/") {
		return out, fmt.Errorf("the path must be the master's name (/mymaster)")
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return out, fmt.Errorf("bad query")
	}
	for k := range q {
		switch k {
		case "db", "sentinel_password", "sentinel_username":
		default:
			return out, fmt.Errorf("unknown parameter %q (db, sentinel_username, sentinel_password)", k)
		}
	}
	if v := q.Get("db"); v != "" {
		if out.DB, err = strconv.Atoi(v); err != nil || out.DB < 0 {
			return out, fmt.Errorf("db=%q is not a database number", v)
		}
	}
	out.SentinelUsername, out.SentinelPassword = q.Get("sentinel_username"), q.Get("sentinel_password")
	return out, nil
}

// redactSentinel is a redis-sentinel:// URL without its passwords.
func redactSentinel(s string) string {
	u, err := ParseSentinelURL(s)
	if err != nil {
		return "redis-sentinel://(unparseable)"
	}
	var b strings.Builder
	b.WriteString("redis-sentinel://")
	if u.Username != "" || u.Password != "" {
		b.WriteString(u.Username)
		if u.Password != "" {
			b.WriteString(":xxxxx")
		}
		b.WriteByte('@')
	}
	b.WriteString(strings.Join(u.Sentinels, ","))
	b.WriteString("/" + u.Master)
	q := url.Values{}
	if u.DB != 0 {
		q.Set("db", strconv.Itoa(u.DB))
	}
	if u.SentinelUsername != "" {
		q.Set("sentinel_username", u.SentinelUsername)
	}
	if u.SentinelPassword != "" {
		q.Set("sentinel_password", "xxxxx")
	}
	if len(q) > 0 {
		b.WriteString("?" + q.Encode())
	}
	return b.String()
}
