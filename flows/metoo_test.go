package flows

import (
	"context"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
)

// TestMeTooOffer: at 确认 an open case like the report nearby is offered
// once; an answer that is neither says what to reply; 修改 to a place far
// away asks afresh (and offers nothing); 同一件 joins without filing.
func TestMeTooOffer(t *testing.T) {
	c := newChat(t)
	c.e.cfg.MeToo = lianxin.MeTooConfig{RadiusM: 250, Window: 30 * 24 * time.Hour}
	report := func(user, place string) string {
		return c.say(t, user, "报事", "2", "楼里暖气不热好几天了", "跳过", place, "跳过", "确认")
	}
	first := report("oMeTooA", "[location 37.8560 113.5726 水滩社区3号楼]")
	contains(t, "the first", first, "提交成功")
	offer := report("oMeTooB", "[location 37.8565 113.5726 水滩社区4号楼]")
	contains(t, "the offer", offer, "附近已有人反映过", "约56米", "同一件")
	contains(t, "neither", c.say(t, "oMeTooB", "你好"), "回复「同一件」关注")
	contains(t, "edit the place", c.say(t, "oMeTooB", "修改 4"), "【所在位置】")
	contains(t, "far away", c.say(t, "oMeTooB", "[location 37.8700 113.5726 贵石沟]"), "【确认提交】")
	contains(t, "no offer there", c.say(t, "oMeTooB", "确认"), "提交成功")

	contains(t, "offered again", report("oMeTooC", "[location 37.8561 113.5727 水滩社区3号楼]"), "附近已有人反映过")
	contains(t, "joined", c.say(t, "oMeTooC", "同一件"), "您已关注", "2位群众反映")
	if cases, _ := c.db.Cases(context.Background(), lianxin.CaseFilter{OpenID: "oMeTooC"}); len(cases) != 0 {
		t.Errorf("joining filed %d cases", len(cases))
	}
	contains(t, "the joiner's 进度", c.say(t, "oMeTooC", "进度"), "您关注的事")
}
