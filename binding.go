package lianxin

import "time"

// Errors a deputy binding their WeChat (绑定 CODE) can meet.
var (
	ErrBadCode      = Errorf(EINVALID, "wrong or expired code")
	ErrTooManyTries = Errorf(EUNAUTHORIZED, "too many wrong codes")
)

// Wrong binding codes are limited three ways, so six digits cannot be
// guessed even with many WeChat accounts: BindLimit per WeChat user and
// BindGlobalLimit across all of them in BindWindow (past it, binding stops
// for everyone until the window moves on), and a code stops working once
// BindCodeLimit wrong codes were sent (by anyone) since it was made; staff
// then make a new one.
const (
	BindLimit       = 5
	BindGlobalLimit = 20
	BindCodeLimit   = 10
	BindWindow      = time.Hour
)
