package dispatch

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
)

// recorder is a Machine whose state is the list of texts applied so far and
// whose reply to each message is its position in that list. If two messages
// were ever applied to the same state, two replies would carry the same
// position.
type recorder struct {
	block map[string]chan struct{} // texts whose application waits for a signal
	seen  chan string              // receives each text as it is applied
}

func (r *recorder) Step(ctx context.Context, state string, msgs []*lianxin.Inbound, now time.Time) (string, time.Duration, []lianxin.Reply) {
	var applied []string
	if state != "" {
		applied = strings.Split(state, ",")
	}
	replies := make([]lianxin.Reply, len(msgs))
	for i, m := range msgs {
		if r.seen != nil {
			r.seen <- m.Text
		}
		if ch := r.block[m.Text]; ch != nil {
			<-ch
		}
		applied = append(applied, m.Text)
		replies[i] = lianxin.Reply{Text: strconv.Itoa(len(applied))}
	}
	return strings.Join(applied, ","), time.Minute, replies
}

func newTestDispatcher(t *testing.T, prefix string, m Machine, late LateFunc) *Dispatcher {
	d := NewDispatcher(testenv.Redis(t), "lx:"+prefix+":", m, late, slog.New(slog.NewTextHandler(io.Discard, nil)))
	return d
}

func text(user, s string, id int64) *lianxin.Inbound {
	return &lianxin.Inbound{Account: "gh", OpenID: user, Kind: lianxin.KindText, MsgID: id, CreateTime: 1, Text: s}
}

func TestDispatchSerialisesConcurrentMessagesAcrossProcesses(t *testing.T) {
	prefix := testenv.Prefix(t)
	rec := &recorder{}
	// Two dispatchers with their own connections: two serve processes.
	procs := []*Dispatcher{newTestDispatcher(t, prefix, rec, nil), newTestDispatcher(t, prefix, rec, nil)}
	const n = 60
	replies := make([]string, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := procs[i%2].Dispatch(context.Background(), lianxin.Delivery{Msg: text("u1", "m"+strconv.Itoa(i), int64(1000+i))})
			if err != nil {
				t.Error(err)
				return
			}
			replies[i] = res.Reply.Text
		}()
	}
	wg.Wait()
	positions := map[string]int{}
	for i, r := range replies {
		if prev, dup := positions[r]; dup {
			t.Fatalf("messages %d and %d were applied to the same state (position %s)", prev, i, r)
		}
		positions[r] = i
	}
	if got := procs[0].Applied() + procs[1].Applied(); got != n {
		t.Errorf("applied %d times for %d messages", got, n)
	}
	// The session holds every message exactly once, in the order they were applied.
	state, err := testenv.Redis(t).Get(context.Background(), SessionKey("lx:"+prefix+":", "u1")).Result()
	if err != nil {
		t.Fatal(err)
	}
	texts := strings.Split(state, ",")
	if len(texts) != n {
		t.Fatalf("session has %d messages, want %d", len(texts), n)
	}
	for pos, txt := range texts {
		i, _ := strconv.Atoi(strings.TrimPrefix(txt, "m"))
		if replies[i] != strconv.Itoa(pos+1) {
			t.Errorf("%s is at position %d in the session but was told %s", txt, pos+1, replies[i])
		}
	}
}

func TestDispatchKeepsResidentsIndependent(t *testing.T) {
	prefix := testenv.Prefix(t)
	d := newTestDispatcher(t, prefix, &recorder{}, nil)
	for i, u := range []string{"a", "b", "a", "c", "a"} {
		res, err := d.Dispatch(context.Background(), lianxin.Delivery{Msg: text(u, "x", int64(i+1))})
		if err != nil {
			t.Fatal(err)
		}
		want := map[int]string{0: "1", 1: "1", 2: "2", 3: "1", 4: "3"}[i]
		if res.Reply.Text != want {
			t.Errorf("message %d for %s: position %s, want %s", i, u, res.Reply.Text, want)
		}
	}
}

func TestDispatchRetriesGetTheSameReplyAndNoSecondEffect(t *testing.T) {
	prefix := testenv.Prefix(t)
	rec := &recorder{}
	d1, d2 := newTestDispatcher(t, prefix, rec, nil), newTestDispatcher(t, prefix, rec, nil)
	m := text("u", "hello", 42)
	var wg sync.WaitGroup
	results := make([]lianxin.Result, 6)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := d1
			if i%2 == 1 {
				d = d2
			}
			r, err := d.Dispatch(context.Background(), lianxin.Delivery{Msg: m})
			if err != nil {
				t.Error(err)
			}
			results[i] = r
		}()
	}
	wg.Wait()
	dups := 0
	for _, r := range results {
		if r.Reply != results[0].Reply || r.ReplyTime != results[0].ReplyTime {
			t.Errorf("reply %+v differs from %+v", r, results[0])
		}
		if r.Duplicate {
			dups++
		}
	}
	if dups != len(results)-1 {
		t.Errorf("%d of %d copies marked duplicate", dups, len(results))
	}
	if got := d1.Applied() + d2.Applied(); got != 1 {
		t.Errorf("applied %d times", got)
	}
}

func TestDispatchRefusesReplayedNonceWithOtherBody(t *testing.T) {
	d := newTestDispatcher(t, testenv.Prefix(t), &recorder{}, nil)
	ctx := context.Background()
	if _, err := d.Dispatch(ctx, lianxin.Delivery{Msg: text("u", "a", 1), NonceKey: "1700000000:55", BodyHash: "h1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Dispatch(ctx, lianxin.Delivery{Msg: text("u", "b", 2), NonceKey: "1700000000:55", BodyHash: "h2"}); !errors.Is(err, lianxin.ErrReplay) {
		t.Errorf("replayed nonce: err = %v", err)
	}
	if r, err := d.Dispatch(ctx, lianxin.Delivery{Msg: text("u", "a", 1), NonceKey: "1700000000:55", BodyHash: "h1"}); err != nil || !r.Duplicate {
		t.Errorf("same body again: %+v %v", r, err)
	}
}

func TestDispatchTakesOverFromAVanishedApplier(t *testing.T) {
	prefix := testenv.Prefix(t)
	rdb := testenv.Redis(t)
	ctx := context.Background()
	d := newTestDispatcher(t, prefix, &recorder{}, nil)
	d.LockTTL = 300 * time.Millisecond
	// A process admitted a message, took the lock and died before applying it.
	dead := text("u", "orphan", 7)
	rk := d.residentKeys("u")
	payload := `{"a":"gh","u":"u","k":"text","i":7,"t":1,"x":"orphan"}`
	rdb.Set(ctx, d.msgKey(dead), "p|deadbeef", time.Minute)
	rdb.RPush(ctx, rk.inbox, payload)
	rdb.Set(ctx, rk.lock, "deadbeef", 300*time.Millisecond)

	res, err := d.Dispatch(ctx, lianxin.Delivery{Msg: text("u", "next", 8)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Reply.Text != "2" {
		t.Errorf("new message applied at position %s, want 2 (after the orphan)", res.Reply.Text)
	}
	orphan, err := rdb.Get(ctx, d.msgKey(dead)).Result()
	if err != nil || !strings.HasPrefix(orphan, "d|") || !strings.HasSuffix(orphan, "|1") {
		t.Errorf("the orphan's reply: %q %v", orphan, err)
	}
}

func TestDispatchSendsTheReplyLateWhenTheCallerGaveUp(t *testing.T) {
	prefix := testenv.Prefix(t)
	release := make(chan struct{})
	rec := &recorder{block: map[string]chan struct{}{"slow": release}, seen: make(chan string, 10)}
	var mu sync.Mutex
	var late []string
	lateDone := make(chan struct{}, 2)
	d := newTestDispatcher(t, prefix, rec, func(ctx context.Context, m *lianxin.Inbound, r lianxin.Reply) {
		mu.Lock()
		late = append(late, m.Text+"="+r.Text)
		mu.Unlock()
		lateDone <- struct{}{}
	})
	ctx := context.Background()
	slowDone := make(chan lianxin.Result)
	go func() {
		r, err := d.Dispatch(ctx, lianxin.Delivery{Msg: text("u", "slow", 1)})
		if err != nil {
			t.Error(err)
		}
		slowDone <- r
	}()
	<-rec.seen // the applier is inside the slow step now
	qctx, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	_, err := d.Dispatch(qctx, lianxin.Delivery{Msg: text("u", "queued", 2)})
	cancel()
	if !errors.Is(err, lianxin.ErrLate) {
		t.Fatalf("queued behind a slow step past its deadline: err = %v, want lianxin.ErrLate", err)
	}
	close(release)
	if r := <-slowDone; r.Reply.Text != "1" {
		t.Errorf("slow message reply %q", r.Reply.Text)
	}
	<-lateDone
	mu.Lock()
	defer mu.Unlock()
	sort.Strings(late)
	if len(late) != 1 || late[0] != "queued=2" {
		t.Errorf("late replies: %v", late)
	}
}

// Batched requests keep working through shutdown: the lanes send what they
// hold, wait returns, and later calls go straight to Redis instead of
// waiting for a lane that is gone.
func TestBatchingStopsCleanly(t *testing.T) {
	prefix := testenv.Prefix(t)
	d := newTestDispatcher(t, prefix, &recorder{}, nil)
	ctx, cancel := context.WithCancel(context.Background())
	wait := d.Batch(ctx, 2)
	if _, err := d.Dispatch(context.Background(), lianxin.Delivery{Msg: text("u1", "before", 1)}); err != nil {
		t.Fatal(err)
	}
	cancel()
	wait()
	dctx, dcancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer dcancel()
	res, err := d.Dispatch(dctx, lianxin.Delivery{Msg: text("u1", "after", 2)})
	if err != nil {
		t.Fatalf("a message after the batcher stopped: %v", err)
	}
	if res.Reply.Text != "2" {
		t.Errorf("reply %q, want the second message's position", res.Reply.Text)
	}
}
