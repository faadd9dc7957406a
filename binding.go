package lianxin

import "time"

// Errors a deputy binding their WeChat (绑定 CODE) can meet.
var (
	ErrBadCode      = Errorf(EINVALID, "wrong or expired code")
	ErrTooManyTries = Errorf(EUNAUTHORIZED, "too many wrong codes")
)

// BindLimit is how many wrong codes one WeChat user may send in BindWindow:
// six digits cannot be guessed at five tries an hour.
const (
	BindLimit  = 5
	BindWindow = time.Hour
)
