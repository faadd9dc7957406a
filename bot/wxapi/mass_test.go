package wxapi_test

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/lianxin/lianxin/bot/wxapi"
	"github.com/lianxin/lianxin/internal/wxtest/fakewx"
)

// TestTagsAndMassSend: a station's tag is created once (a second process
// finds it), followers are tagged, a mass send reaches the tag once per
// clientmsgid, past the quota WeChat's 45028 is ErrNoMassQuota, and a
// follower with 20 tags is ErrTooManyTags.
func TestTagsAndMassSend(t *testing.T) {
	t.Parallel()
	acc := newAccount(t, fakewx.Options{})
	c := acc.process(t, nil)
	ctx := ctxT(t)
	id, err := c.EnsureTag(ctx, "联络站:pingtanjie")
	if err != nil || id == 0 {
		t.Fatal(id, err)
	}
	if again, err := acc.process(t, nil).EnsureTag(ctx, "联络站:pingtanjie"); err != nil || again != id {
		t.Errorf("another process: %d %v, want %d", again, err, id)
	}
	if err := c.TagUsers(ctx, id, []string{"oRes1", "oRes2"}); err != nil {
		t.Fatal(err)
	}
	if m := acc.fake.TagMembers("联络站:pingtanjie"); !slices.Equal(m, []string{"oRes1", "oRes2"}) {
		t.Errorf("members: %v", m)
	}
	acc.fake.SetMassQuota(2)
	for range 2 {
		if _, err := c.SendToTag(ctx, "联络站:pingtanjie", "【接待日提醒】", "lianxin-mass-1"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.SendToTag(ctx, "联络站:pingtanjie", "第二次", "lianxin-mass-2"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SendToTag(ctx, "联络站:pingtanjie", "第三次", "lianxin-mass-3"); !errors.Is(err, wxapi.ErrNoMassQuota) {
		t.Errorf("past the quota: %v", err)
	}
	n := 0
	for _, s := range acc.fake.Sent() {
		if s.Kind == fakewx.KindMass {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d mass sends delivered, want 2 (a repeated clientmsgid is one)", n)
	}
	if _, err := c.SendToTag(ctx, "联络站:nowhere", "x", ""); !errors.Is(err, wxapi.ErrNoSuchTag) {
		t.Errorf("an unknown tag: %v", err)
	}
	for i := range 20 {
		tid, err := c.EnsureTag(ctx, fmt.Sprintf("标签%d", i))
		if err == nil {
			err = c.TagUsers(ctx, tid, []string{"oBusy"})
		}
		if err != nil {
			t.Fatal(i, err)
		}
	}
	if err := c.TagUsers(ctx, id, []string{"oBusy"}); !errors.Is(err, wxapi.ErrTooManyTags) {
		t.Errorf("a 21st tag: %v", err)
	}
}
