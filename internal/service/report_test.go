package service_test

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/service"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// TestNinePhotosSentAtOnce: a resident selects nine photos and sends them in
// one go. WeChat posts nine requests at the same moment; every photo must end
// up on the case, in one process or spread over two.
func TestNinePhotosSentAtOnce(t *testing.T) {
	cfg := testConfig(t)
	a := startService(t, cfg)
	b := startService(t, cfg) // a second `serve` on the same Redis and SQLite file
	for _, tc := range []struct {
		name  string
		procs []*testService
	}{
		{"one process", []*testService{a}},
		{"two processes", []*testService{a, b}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user := "oNinePhotos_" + strings.ReplaceAll(tc.name, " ", "_")
			replies := make([]string, 9)
			var wg sync.WaitGroup
			for i := range 9 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					c := tc.procs[i%len(tc.procs)].Client(wxsim.Safe)
					id := fmt.Sprintf("NINE_%s_%d", user, i)
					r, err := c.Send(context.Background(), wxsim.Image(user, id, "http://mmbiz.qpic.cn/"+id))
					if err != nil || r.Status != 200 {
						t.Errorf("photo %d: %v %+v", i, err, r)
						return
					}
					replies[i] = r.Content
				}()
			}
			wg.Wait()
			if t.Failed() {
				return
			}
			// The photos were applied one after another: one started the
			// report, the others counted 2 to 9.
			var counts []string
			first := 0
			re := regexp.MustCompile(`共(\d)张`)
			for _, r := range replies {
				if strings.HasPrefix(r, "已收到照片。") {
					first++
				} else if m := re.FindStringSubmatch(r); m != nil {
					counts = append(counts, m[1])
				}
			}
			sort.Strings(counts)
			if first != 1 || strings.Join(counts, "") != "23456789" {
				t.Fatalf("replies to nine photos: %q", replies)
			}
			c := a.Client(wxsim.Safe)
			for _, step := range []string{"2", "3号楼2单元暖气一直不热,屋里才十四五度", "完成", "水滩社区3号楼", "跳过"} {
				say(t, c, user, step)
			}
			mustContain(t, say(t, c, user, "确认"), "提交成功")
			cases, err := a.DB.Cases(context.Background(), lianxin.CaseFilter{OpenID: user})
			if err != nil || len(cases) != 1 {
				t.Fatalf("cases: %v %v", cases, err)
			}
			got, err := a.DB.Case(context.Background(), cases[0].Number)
			if err != nil {
				t.Fatal(err)
			}
			photos := 0
			for _, att := range got.Attachments {
				if att.Kind == lianxin.KindImage {
					photos++
				}
			}
			if photos != 9 {
				t.Errorf("the case has %d photos, want 9", photos)
			}
		})
	}
}

// TestTwoRedisRoundTripsPerMessage counts the commands the service sends to
// Redis for each message of a report: admit and commit, nothing else.
func TestTwoRedisRoundTripsPerMessage(t *testing.T) {
	ts := startService(t, testConfig(t))
	counter := &commandCounter{}
	ts.Redis.AddHook(counter)
	c := ts.Client(wxsim.Safe)
	user := "oRoundTrips_000000000001"
	say(t, c, "oRoundTrips_warmup", "帮助") // scripts are loaded into Redis once
	for _, text := range []string{"报事", "2", "3号楼2单元暖气一直不热", "跳过", "水滩社区3号楼", "跳过", "确认"} {
		counter.reset()
		say(t, c, user, text)
		if n := counter.get(); n != 2 {
			t.Errorf("%q cost %d Redis round trips, want 2", text, n)
		}
	}
}

// Conversations belong to a database. A second process on the same database
// carries a resident's draft on; a fresh database pointed at the same Redis
// (a reinstall, a copy for training) starts the resident afresh instead of
// resuming a draft whose photos and history it does not have.
func TestConversationsBelongToTheirDatabase(t *testing.T) {
	cfg := testConfig(t)
	first := startService(t, cfg)
	user := "oResidentDraftOwner"
	say(t, first.Client(wxsim.Safe), user, "报事")
	say(t, first.Client(wxsim.Safe), user, "2")

	same := startService(t, cfg) // another process, same SQLite file
	if r := say(t, same.Client(wxsim.Safe), user, "3号楼2单元暖气一直不热"); !strings.HasPrefix(r, "【上传照片】") {
		t.Fatalf("a second process on the same database lost the draft: %q", r)
	}

	fresh := cfg
	fresh.DBPath = testenv.DBPath(t)
	other := startService(t, fresh)
	r := say(t, other.Client(wxsim.Safe), user, "照片我等会儿发")
	if strings.Contains(r, "【上传照片】") || !strings.Contains(r, "1 报事") {
		t.Fatalf("a fresh database resumed another database's draft instead of offering the menu: %q", r)
	}
	if other.ConversationPrefix() == first.ConversationPrefix() || !strings.HasPrefix(other.ConversationPrefix(), service.RedisPrefix(cfg)) {
		t.Errorf("conversation keys %q and %q", first.ConversationPrefix(), other.ConversationPrefix())
	}
}

// TestPhotoThatNeverArrivesIsTold: WeChat no longer has a photo a resident
// sent; the media worker gives up on it, the resident is told through
// WeChat that it did not arrive, and the report's summary does not count it.
func TestPhotoThatNeverArrivesIsTold(t *testing.T) {
	cfg := testConfig(t)
	fw := withFakeWeChat(t, &cfg)
	ts := startService(t, cfg)
	c := ts.Client(wxsim.Safe)
	const user = "oLostPhotoResident000001"
	say(t, c, user, "报事")
	say(t, c, user, "2")
	say(t, c, user, "3号楼2单元暖气一直不热，屋里才十四五度")
	good := fw.AddGeneratedPhoto(37.8561, 113.5727)
	mustContain(t, send(t, c, wxsim.Image(user, good, fw.PicURL(good))).Content, "第1张")
	// A media id WeChat never issued, and a PicUrl that answers 404.
	mustContain(t, send(t, c, wxsim.Image(user, "LOST_MEDIA_ID", fw.PicURL("LOST_MEDIA_ID"))).Content, "第2张")
	waitSent(t, fw, user, "照片没能收到", "重新发送")
	say(t, c, user, "完成")
	say(t, c, user, "水滩社区3号楼")
	mustContain(t, say(t, c, user, "跳过"), "照片：1张", "1张没能收到")
}
