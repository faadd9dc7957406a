package lianxin

import (
	"errors"
	"strings"
	"time"
)

// Parametric QR codes (代表码): every deputy and station has a permanent
// WeChat QR code whose scene names them. A resident who scans one follows
// the account (subscribe, EventKey qrscene_SCENE) or, already following,
// sends SCAN (EventKey SCENE); their next report goes to that deputy (or
// station). A deputy can also bind their WeChat by scanning a one-time
// code the console shows (scene bind:TOKEN).

// Scene kinds.
const (
	SceneDeputy  = "deputy"
	SceneStation = "station"
	SceneBind    = "bind"
)

// ScanMemory is how long a scanned deputy's or station's code decides the
// resident's next report: a week covers «scanned the poster at the station,
// reported from home at the weekend» without a months-old scan steering a
// report about something else.
const ScanMemory = 7 * 24 * time.Hour

// BindQRTTL is how long a one-time binding QR code works: long enough to
// take out a phone, short enough that a photo of the screen is soon useless.
const BindQRTTL = 10 * time.Minute

// QRCode is a permanent code WeChat made for a scene.
type QRCode struct {
	Scene     string    `db:"scene"`
	Ticket    string    `db:"ticket"`
	URL       string    `db:"url"` // what the QR image encodes (weixin.qq.com/q/…)
	CreatedAt time.Time `db:"created_at"`
}

// Scene is a QR code's scene value: "deputy:ID", "station:ID", "bind:TOKEN".
func Scene(kind, id string) string { return kind + ":" + id }

// ParseScene reads a scene from a subscribe or SCAN event's EventKey
// (qrscene_ is the prefix a subscribe carries). ok is false for anything
// that is not one of ours (a menu key, an empty key).
func ParseScene(eventKey string) (kind, id string, ok bool) {
	s := strings.TrimPrefix(eventKey, "qrscene_")
	kind, id, found := strings.Cut(s, ":")
	if !found || id == "" {
		return "", "", false
	}
	switch kind {
	case SceneDeputy, SceneStation, SceneBind:
		return kind, id, true
	}
	return "", "", false
}

// EventScan is the event a follower's scan of a parametric code sends.
const EventScan = "SCAN"

// ErrQRLimit: WeChat will make no more permanent codes for the account
// (its limit is 100 000); staff are told so in the console.
var ErrQRLimit = errors.New("lianxin: the account's permanent QR code limit is reached")
