package lianxin

import (
	"errors"
	"fmt"
)

// Error codes shared by every part. Each maps to one HTTP status and one
// Chinese text a chat or console user may see (errorKinds); the Message of
// an internal error is logged, never shown.
const (
	EINVALID      = "invalid"
	ENOTFOUND     = "not_found"
	ECONFLICT     = "conflict"
	EUNAUTHORIZED = "unauthorized"
	EFORBIDDEN    = "forbidden"
	EUNAVAILABLE  = "unavailable"
	EINTERNAL     = "internal"
)

// errorKinds is the one place a code meets the people who see it: the HTTP
// status a web client gets, and the key of the Chinese text in
// configs/messages.yaml that a resident, deputy or clerk reads. (Plain
// numbers: the domain has no HTTP in it.)
var errorKinds = map[string]struct {
	status  int
	textKey string
}{
	EINVALID:      {400, "error_invalid"},
	ENOTFOUND:     {404, "error_not_found"},
	ECONFLICT:     {409, "error_conflict"},
	EUNAUTHORIZED: {401, "error_unauthorized"},
	EFORBIDDEN:    {403, "error_forbidden"},
	EUNAVAILABLE:  {503, "error_unavailable"},
	EINTERNAL:     {500, "error"},
}

// ErrorTextKeys are the message keys errorKinds uses, so the texts loader
// can require them.
func ErrorTextKeys() []string {
	keys := make([]string, 0, len(errorKinds))
	for _, k := range errorKinds {
		keys = append(keys, k.textKey)
	}
	return keys
}

// Error is an application error. Message says what went wrong in terms the
// operator who reads the log understands; users see the text of its code.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("lianxin: %s: %s", e.Code, e.Message) }

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode is the code of the first *Error in err's chain, EINTERNAL for any
// other error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage is the message of err's *Error for operators (the CLI prints
// it); any other error reads as "internal error".
func ErrorMessage(err error) string {
	var e *Error
	if err == nil {
		return ""
	} else if errors.As(err, &e) {
		return e.Message
	}
	return "internal error"
}

// ErrorStatus is the HTTP status for err: 500 for anything not an *Error.
func ErrorStatus(err error) int {
	if k, ok := errorKinds[ErrorCode(err)]; ok {
		return k.status
	}
	return 500
}

// ErrorTextKey is the configs/messages.yaml key of the Chinese text a user
// sees for err (the generic "error" for internal ones).
func ErrorTextKey(err error) string {
	if k, ok := errorKinds[ErrorCode(err)]; ok {
		return k.textKey
	}
	return "error"
}

// ErrLeaseLost is what finishing a claimed queue row (an attachment, an
// outbox message) returns when the worker no longer holds its lease: the
// lease ran out and another process claimed the row, whose outcome then
// counts instead.
var ErrLeaseLost = &Error{Code: ECONFLICT, Message: "lease lost: another worker took the row over"}
