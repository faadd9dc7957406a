package wxapi

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
)

// Kinds of failure, for errors.Is on any error this package returns. Callers
// decide by kind, never by errcode or message: a queue retries ErrTransient,
// ErrRateLimited, ErrInvalidToken and ErrUnauthorized later, falls back to a
// template on ErrOutOfWindow, and gives up on the rest.
var (
	// ErrOutOfWindow: the customer-service window is closed. 45015: the user
	// last wrote more than 48 hours ago (or unsubscribed); 45047: more
	// customer-service messages were sent since the user's last message than
	// WeChat allows. Either way only a template message reaches the user now.
	ErrOutOfWindow = errors.New("wxapi: outside the customer-service window")
	// ErrRateLimited: a quota or frequency limit (45009, 45011, a WeCom
	// robot's 20 messages a minute). Try again later.
	ErrRateLimited = errors.New("wxapi: rate limited")
	// ErrInvalidToken: the access token was refused even after a refresh
	// (40001, 42001, 40014), or none was sent (41001).
	ErrInvalidToken = errors.New("wxapi: access token refused")
	// ErrUnauthorized: the token endpoint refused the account's credentials
	// (wrong AppID or AppSecret, the server's IP not on the allow-list) or the
	// account may not call the API (48001). An operator must act; queued work
	// waits for them rather than being dropped.
	ErrUnauthorized = errors.New("wxapi: credentials refused")
	// ErrInvalidMedia: WeChat does not know the media id (40007, 41006),
	// typically because it is older than WeChat's 3 days.
	ErrInvalidMedia = errors.New("wxapi: invalid media id")
	// ErrTooLarge: a download was larger than Config.MaxMedia.
	ErrTooLarge = errors.New("wxapi: media too large")
	// ErrTransient: the network, a timeout, an HTTP 5xx/429, or WeChat's -1
	// "system busy". Try again later.
	ErrTransient = errors.New("wxapi: transient failure")
	// ErrPermanent: any other refusal; repeating the same call will not help.
	ErrPermanent = errors.New("wxapi: refused")
)

// APIError is a failed WeChat call. errors.Is(err, ErrOutOfWindow) and the
// other kinds work on it; errors.Is(err, context.Canceled) too when the
// caller's context ended.
type APIError struct {
	API    string // which call: "custom/send", "media/get", "token", ...
	Code   int    // WeChat errcode; 0 for transport failures
	Status int    // HTTP status when it was not 200; 0 otherwise
	Msg    string // WeChat's errmsg, or the transport failure with secrets removed
	Kind   error  // one of the Err* kinds above
	Err    error  // the underlying cause (a context error, a net error), if any
}

func (e *APIError) Error() string {
	switch {
	case e.Code != 0:
		return fmt.Sprintf("wxapi: %s: errcode %d: %s", e.API, e.Code, e.Msg)
	case e.Status != 0:
		return fmt.Sprintf("wxapi: %s: HTTP %d", e.API, e.Status)
	}
	return fmt.Sprintf("wxapi: %s: %s", e.API, e.Msg)
}

// Unwrap exposes the kind and the cause to errors.Is and errors.As.
func (e *APIError) Unwrap() []error {
	if e.Err != nil {
		return []error{e.Kind, e.Err}
	}
	return []error{e.Kind}
}

// tokenCodes are the answers that mean "this access token is no good": not
// the latest (40001), expired (42001), malformed (40014).
func isTokenCode(code int) bool { return code == 40001 || code == 42001 || code == 40014 }

// kindOf maps a WeChat errcode to a kind.
func kindOf(code int) error {
	switch code {
	case -1:
		return ErrTransient
	case 40001, 42001, 40014, 41001:
		return ErrInvalidToken
	case 40002, 40013, 40125, 40164, 41002, 41004, 48001, 40243, 89503:
		return ErrUnauthorized
	case 45015, 45047:
		return ErrOutOfWindow
	case 45009, 45011, 45033, 45035:
		return ErrRateLimited
	case 40007, 41006:
		return ErrInvalidMedia
	}
	return ErrPermanent
}

func codeError(api string, code int, msg string) *APIError {
	return &APIError{API: api, Code: code, Msg: redactErrMsg(msg), Kind: kindOf(code)}
}

// openIDs are WeChat user ids as they may appear in an errmsg.
var openIDs = regexp.MustCompile(`o[0-9A-Za-z_-]{27}`)

// redactErrMsg is WeChat's errmsg as it is logged and kept in the outbox:
// what it may echo of the request (a token, a key, an openid) removed, and
// at most 200 bytes of it.
func redactErrMsg(msg string) string {
	msg = openIDs.ReplaceAllStringFunc(Redact(msg), func(id string) string { return id[:4] + "***" + id[len(id)-4:] })
	if len(msg) > 200 {
		msg = strings.ToValidUTF8(msg[:200], "") + "…"
	}
	return msg
}

// statusError is a non-200 answer: 5xx, 408 and 429 are worth retrying, any
// other status is a refusal (a proxy's 403, a wrong path's 404).
func statusError(api string, status int) *APIError {
	kind := ErrPermanent
	if status >= 500 || status == 408 || status == 429 {
		kind = ErrTransient
	}
	return &APIError{API: api, Status: status, Msg: "HTTP " + strconv.Itoa(status), Kind: kind}
}

// sdkStatus matches the status in the SDK's own error for non-200 answers
// ("http get error : uri=... , statusCode=503"), which is a plain fmt error.
var sdkStatus = regexp.MustCompile(`statusCode=(\d{3})`)

// transportError turns what the HTTP layer (ours or the SDK's) returned into
// an APIError without the request URL, which carries the access token or the
// AppSecret. ctx is the caller's context: when it ended, the error says so.
func transportError(ctx context.Context, api string, err error) *APIError {
	if m := sdkStatus.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return statusError(api, n)
	}
	cause := err
	var ue *url.Error
	if errors.As(err, &ue) {
		cause = ue.Err // url.Error's text is the URL plus the cause
	}
	if ctx.Err() != nil {
		cause = ctx.Err()
	}
	return &APIError{API: api, Msg: Redact(cause.Error()), Kind: ErrTransient, Err: cause}
}

// secretParams matches the query parameters that must never reach a log.
var secretParams = regexp.MustCompile(`(access_token|secret|key)=[^&\s"']*`)

// Redact removes access tokens, AppSecrets and robot keys from s (an error
// message or a URL), for logs.
func Redact(s string) string {
	return secretParams.ReplaceAllString(s, "$1=REDACTED")
}
