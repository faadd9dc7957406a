package service_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/internal/wxtest/wxsim"
)

// TestFaultRedisSentinelFailoverUnderLoad: the service reaches Redis through
// Sentinel (LIANXIN_REDIS_URL=redis-sentinel://…) while residents file
// reports; the master is killed (SIGKILL) and the sentinels promote the
// replica. Every acknowledged message is in the journal and none is left
// unapplied (what came while no master answered was journaled as deferred
// and replayed), no message is applied twice, and conversations carry on:
// every resident files one more report on the new master, and it is
// registered.
func TestFaultRedisSentinelFailoverUnderLoad(t *testing.T) {
	group := testenv.StartSentinelGroup(t)
	cfg := testConfig(t)
	cfg.RedisURL = group.URL()
	ts := startService(t, cfg)
	c := ts.Client(wxsim.Safe)
	const residents, rounds = 8, 3
	var users []string
	for i := range residents {
		users = append(users, fmt.Sprintf("oFaultSentinel%08d", i))
	}
	var sent atomic.Int64
	killAt := int64(residents * len(faultSteps))
	reachedKill := make(chan struct{})
	var phase atomic.Value
	phase.Store("before")
	lat := &latencies{}
	var wg sync.WaitGroup
	for _, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range rounds {
				for _, step := range faultSteps {
					if sent.Add(1) == killAt {
						close(reachedKill)
					}
					r, err := c.Send(context.Background(), wxsim.Text(u, step))
					if err != nil || r.Status != 200 {
						t.Errorf("%s %q: %v %+v", u, step, err, r)
						return
					}
					lat.add(phase.Load().(string), r.Latency)
				}
			}
		}()
	}
	<-reachedKill
	old := group.KillMaster()
	phase.Store("failing over")
	start := time.Now()
	promoted := group.WaitForNewMaster(old, 30*time.Second)
	phase.Store("after failover")
	t.Logf("master %s killed; sentinels promoted %s after %s", old, promoted, time.Since(start).Round(time.Millisecond))
	wg.Wait()
	waitFor(t, 15*time.Second, "the backlog to be replayed", func() bool {
		return ts.Replayer.Pass(context.Background()) == nil
	})
	outcomes := journalOutcomes(t, ts, users)
	total := 0
	for _, n := range outcomes {
		total += n
	}
	if total != residents*rounds*len(faultSteps) {
		t.Errorf("journal has %d messages, %d were sent", total, residents*rounds*len(faultSteps))
	}
	if outcomes["deferred"] != 0 || outcomes["received"] != 0 {
		t.Errorf("messages never applied: %v", outcomes)
	}
	// A report per conversation at most (the source message makes a case
	// once); a draft caught by the failover may have been cut short.
	before := casesOf(t, ts, users)
	if before > residents*rounds {
		t.Errorf("%d cases for %d conversations: some registered twice", before, residents*rounds)
	}
	// Conversations carry on, on the new master.
	for _, u := range users {
		say(t, c, u, "取消")
		for _, step := range faultSteps {
			say(t, c, u, step)
		}
	}
	if after := casesOf(t, ts, users); after != before+residents {
		t.Errorf("after the failover %d residents filed %d cases, want one each", residents, after-before)
	}
	t.Logf("Sentinel failover under load: %d messages, outcomes %v, %d cases of %d conversations before the check", total, outcomes, before, residents*rounds)
	lat.report(t)
}
