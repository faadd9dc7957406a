package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

// TestOpen311KeysAndQRCodes: an Open311 key works until revoked and only
// its hash is kept; a QR code is kept once per scene; a binding token
// binds once. Both engines.
func TestOpen311KeysAndQRCodes(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		db := openTest(t, dsn())
		key, c, err := db.CreateOpen311Key(ctx, "12345热线", lianxin.AuditEntry{Actor: "t"})
		if err != nil || c.ID == 0 || len(key) < 30 {
			t.Fatalf("key: %q %+v %v", key, c, err)
		}
		if _, _, err := db.CreateOpen311Key(ctx, " ", lianxin.AuditEntry{}); lianxin.ErrorCode(err) != lianxin.EINVALID {
			t.Errorf("an empty name: %v", err)
		}
		var stored int
		if err := db.read.GetContext(ctx, &stored, `SELECT COUNT(*) FROM open311_keys WHERE key_hash = ?`, key); err != nil || stored != 0 {
			t.Errorf("the key is kept in clear (%d, %v)", stored, err)
		}
		got, err := db.Open311Client(ctx, key)
		if err != nil || got.Name != "12345热线" {
			t.Fatalf("client of the key: %+v %v", got, err)
		}
		if _, err := db.Open311Client(ctx, key+"x"); lianxin.ErrorCode(err) != lianxin.EUNAUTHORIZED {
			t.Errorf("a wrong key: %v", err)
		}
		if _, err := db.RevokeOpen311Key(ctx, "12345热线", lianxin.AuditEntry{Actor: "t"}); err != nil {
			t.Fatal(err)
		}
		if _, err := db.Open311Client(ctx, key); lianxin.ErrorCode(err) != lianxin.EUNAUTHORIZED {
			t.Errorf("a revoked key: %v", err)
		}
		list, err := db.Open311Keys(ctx)
		if err != nil || len(list) != 1 || list[0].RevokedAt == nil || list[0].LastUsedAt == nil {
			t.Errorf("keys: %+v %v", list, err)
		}

		q, err := db.SaveQRCode(ctx, lianxin.QRCode{Scene: "deputy:d1", Ticket: "T1", URL: "http://weixin.qq.com/q/1"})
		if err != nil || q.URL != "http://weixin.qq.com/q/1" {
			t.Fatalf("save: %+v %v", q, err)
		}
		if q, _ = db.SaveQRCode(ctx, lianxin.QRCode{Scene: "deputy:d1", Ticket: "T2", URL: "http://weixin.qq.com/q/2"}); q.Ticket != "T1" {
			t.Errorf("a second code replaced the first: %+v", q)
		}
		if _, err := db.QRCode(ctx, "station:x"); lianxin.ErrorCode(err) != lianxin.ENOTFOUND {
			t.Errorf("no code: %v", err)
		}
		if all, err := db.QRCodes(ctx); err != nil || len(all) != 1 {
			t.Errorf("codes: %+v %v", all, err)
		}

		dir := &lianxin.Directory{Stations: []lianxin.Station{{ID: "st", Name: "站", Kind: lianxin.StationKind}},
			Deputies: []lianxin.Deputy{{ID: "d1", Name: "代表", StationID: "st"}}}
		if _, err := db.ImportDirectory(ctx, dir, nil, false); err != nil {
			t.Fatal(err)
		}
		if _, _, err := db.CreateBindToken(ctx, "nobody", time.Minute, lianxin.AuditEntry{}); lianxin.ErrorCode(err) != lianxin.ENOTFOUND {
			t.Errorf("a token for nobody: %v", err)
		}
		typed, _, err := db.CreateInvite(ctx, "d1", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		token, _, err := db.CreateBindToken(ctx, "d1", time.Minute, lianxin.AuditEntry{Actor: "t"})
		if err != nil || len(token) != 32 {
			t.Fatalf("token %q: %v", token, err)
		}
		if d, err := db.Bind(ctx, token, "oScanner"); err != nil || d.ID != "d1" {
			t.Fatalf("binding by the token: %+v %v", d, err)
		}
		if _, err := db.Bind(ctx, token, "oOther"); !errors.Is(err, lianxin.ErrBadCode) {
			t.Errorf("the token used twice: %v", err)
		}
		// The typed code made before still works: a token voids no other code.
		if d, err := db.Bind(ctx, typed, "oScanner"); err != nil || d.ID != "d1" {
			t.Errorf("the typed code after a token: %+v %v", d, err)
		}
	})
}
