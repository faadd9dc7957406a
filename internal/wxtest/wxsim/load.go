package wxsim

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// LoadStats summarises a load run.
type LoadStats struct {
	Messages int
	Errors   int
	Elapsed  time.Duration
	P50, P99 time.Duration
	Max      time.Duration
}

// PerSecond is the throughput.
func (s LoadStats) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Messages) / s.Elapsed.Seconds()
}

// Script produces the i-th message a worker sends and checks its reply;
// a returned error counts the message as failed.
type Script interface {
	Next(worker, i int) Message
	Check(worker, i int, m Message, r *Reply) error
}

// Load sends n messages through c from `workers` concurrent senders, each
// request built (signed, encrypted) as WeChat would, and measures latency.
// Every worker's messages go out one after another, like one WeChat user.
func Load(ctx context.Context, c *Client, s Script, workers, n int) LoadStats {
	if c.HTTP == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = workers
		tr.MaxConnsPerHost = workers
		c.HTTP = &http.Client{Transport: tr, Timeout: 10 * time.Second}
	}
	lat := make([][]time.Duration, workers)
	var errs atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for w := 0; w < workers; w++ {
		// Each worker has a fixed share, so a script of whole conversations
		// ends each worker on a conversation's last message when n allows.
		quota := n / workers
		if w < n%workers {
			quota++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < quota; i++ {
				if ctx.Err() != nil {
					return
				}
				m := s.Next(w, i)
				t0 := time.Now()
				r, err := c.Send(ctx, m)
				lat[w] = append(lat[w], time.Since(t0))
				if err == nil {
					err = s.Check(w, i, m, r)
				}
				if err != nil {
					errs.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	st := LoadStats{Elapsed: time.Since(start), Errors: int(errs.Load())}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	st.Messages = len(all)
	if len(all) > 0 {
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		st.P50 = all[len(all)/2]
		st.P99 = all[len(all)*99/100]
		st.Max = all[len(all)-1]
	}
	return st
}

// ReportScript is the benchmarks' report mix: it plays each sender as a resident filing reports one after
// another: 报事, category, description, two photos, 完成, a location, no
// phone, 确认 — nine messages a conversation.
type ReportScript struct {
	Prefix string
	// strict checks that every conversation ends in a registered case
	// (lianxin); the baseline only echoes, so it is checked for HTTP 200.
	Strict bool
}

// ReportSteps is how many messages one report conversation takes.
const ReportSteps = 9

// User is the openid the w-th sender writes as.
func (s ReportScript) User(w int) string { return fmt.Sprintf("o%sreport%05d", s.Prefix, w) }

func (s ReportScript) Next(w, i int) Message {
	u := s.User(w)
	switch i % ReportSteps {
	case 0:
		return Text(u, "报事")
	case 1:
		return Text(u, "2")
	case 2:
		return Text(u, "3号楼2单元暖气一直不热,屋里才十四五度,老人受不了")
	case 3, 4:
		id := fmt.Sprintf("BENCH_%s_%d", u, i)
		return Image(u, id, "http://mmbiz.qpic.cn/"+id)
	case 5:
		return Text(u, "完成")
	case 6:
		return Location(u, 37.8560, 113.5726, "阳泉市矿区水滩社区3号楼")
	case 7:
		return Text(u, "跳过")
	}
	return Text(u, "确认")
}

func (s ReportScript) Check(w, i int, m Message, r *Reply) error {
	if r.Status != 200 {
		return fmt.Errorf("step %d: HTTP %d", i%ReportSteps, r.Status)
	}
	if !s.Strict {
		return nil
	}
	if r.Content == "" {
		return fmt.Errorf("step %d: empty reply", i%ReportSteps)
	}
	if i%ReportSteps == ReportSteps-1 && !strings.Contains(r.Content, "提交成功") {
		return fmt.Errorf("confirm: %q", r.Content)
	}
	return nil
}
