package lianxin

import "time"

// Open311Client is a system that files cases through the Open311
// GeoReport v2 endpoint (a 12345 hotline, a web form, another city
// system) with an API key of its own. Its Name is the source of the cases
// it files.
type Open311Client struct {
	ID         int64      `json:"id" db:"id"`
	Name       string     `json:"name" db:"name"`
	CreatedAt  time.Time  `json:"created_at" db:"created_at"`
	RevokedAt  *time.Time `json:"revoked_at,omitempty" db:"revoked_at"`
	LastUsedAt *time.Time `json:"last_used_at,omitempty" db:"last_used_at"`
}

// Open311 audit actions.
const (
	AuditOpen311KeyAdd    = "open311_key_add"
	AuditOpen311KeyRevoke = "open311_key_revoke"
)
