package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/lianxin/lianxin"
	"github.com/lianxin/lianxin/internal/testenv"
	"github.com/lianxin/lianxin/store"
)

var qt0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func openQueueDB(t *testing.T, path string) *store.DB {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Now = func() time.Time { return qt0 }
	t.Cleanup(func() { db.Close() })
	return db
}

func queuePhoto(i int) *lianxin.Inbound {
	return &lianxin.Inbound{Account: "gh_test", OpenID: "oResident1", Kind: lianxin.KindImage, MsgID: int64(1000 + i),
		CreateTime: qt0.Unix(), MediaID: fmt.Sprintf("media-%d", i), PicURL: fmt.Sprintf("http://pic/%d", i)}
}

func TestClaimAttachments(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		db := openQueueDB(t, dsn())
		id, err := db.RegisterAttachment(ctx, queuePhoto(1))
		if err != nil {
			t.Fatal(err)
		}
		jobs, err := db.ClaimAttachments(ctx, "w1", qt0, time.Minute, 10)
		if err != nil || len(jobs) != 1 {
			t.Fatalf("claim: %+v, %v", jobs, err)
		}
		j := jobs[0]
		if j.ID != id || j.MediaID != "media-1" || j.PicURL != "http://pic/1" || j.Kind != lianxin.KindImage ||
			j.Attempts != 1 || !j.ExpiresAt.Equal(qt0.Add(lianxin.MediaLifetime)) {
			t.Errorf("job = %+v", j)
		}
		// Leased: nobody else gets it until the lease runs out.
		if again, _ := db.ClaimAttachments(ctx, "w2", qt0.Add(59*time.Second), time.Minute, 10); len(again) != 0 {
			t.Errorf("claimed a leased row: %+v", again)
		}
		again, _ := db.ClaimAttachments(ctx, "w2", qt0.Add(61*time.Second), time.Minute, 10)
		if len(again) != 1 || again[0].Attempts != 2 {
			t.Fatalf("after the lease ran out: %+v", again)
		}
		// w1 comes back late: its outcome no longer counts.
		if err := db.RetryAttachment(ctx, id, "w1", qt0, qt0.Add(time.Hour), "x"); !errors.Is(err, lianxin.ErrLeaseLost) {
			t.Errorf("late finish by the old owner: %v", err)
		}
		if err := db.RetryAttachment(ctx, id, "w2", qt0.Add(61*time.Second), qt0.Add(time.Hour), "media/get: HTTP 503"); err != nil {
			t.Fatal(err)
		}
		if a, _ := db.Attachment(ctx, id); a.Status != lianxin.AttachmentPending || a.Error != "media/get: HTTP 503" || a.Attempts != 2 {
			t.Errorf("after retry: %+v", a)
		}
		if jobs, _ := db.ClaimAttachments(ctx, "w1", qt0.Add(59*time.Minute), time.Minute, 10); len(jobs) != 0 {
			t.Errorf("claimed before next_attempt: %+v", jobs)
		}
		jobs, _ = db.ClaimAttachments(ctx, "w1", qt0.Add(time.Hour), time.Minute, 10)
		if len(jobs) != 1 || jobs[0].LastError != "media/get: HTTP 503" {
			t.Fatalf("due again: %+v", jobs)
		}
		f := lianxin.StoredMedia{Path: "media/ab/cd/abcd.jpg", ThumbPath: "media/ab/cd/abcd.thumb.jpg", SHA256: "abcd", Mime: "image/jpeg", Size: 1234}
		if err := db.MarkAttachmentStored(ctx, id, "w1", qt0.Add(time.Hour), f); err != nil {
			t.Fatal(err)
		}
		a, _ := db.Attachment(ctx, id)
		if a.Status != lianxin.AttachmentStored || a.Path != f.Path || a.ThumbPath != f.ThumbPath || a.SHA256 != "abcd" ||
			a.Mime != "image/jpeg" || a.Size != 1234 || a.Error != "" || a.Attempts != 3 {
			t.Errorf("stored: %+v", a)
		}
		if err := db.MarkAttachmentFailed(ctx, id, "w1", qt0, "x"); !errors.Is(err, lianxin.ErrLeaseLost) {
			t.Errorf("finishing a stored row twice: %v", err)
		}
	})
}

// TestClaimAttachmentsTwoProcesses: two handles on one file (two processes)
// claiming at once never get the same row.
func TestClaimAttachmentsTwoProcesses(t *testing.T) {
	testenv.EachEngine(t, func(t *testing.T, dsn func() string) {
		ctx := context.Background()
		path := dsn()
		a, b := openQueueDB(t, path), openQueueDB(t, path)
		const n = 200
		for i := range n {
			if _, err := a.RegisterAttachment(ctx, queuePhoto(i)); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[int64]string{}
		var wg sync.WaitGroup
		for w, db := range map[string]*store.DB{"a": a, "b": b} {
			for k := range 4 {
				owner := fmt.Sprintf("%s%d", w, k)
				wg.Go(func() {
					for {
						jobs, err := db.ClaimAttachments(ctx, owner, qt0, time.Minute, 3)
						if err != nil {
							t.Error(err)
							return
						}
						if len(jobs) == 0 {
							return
						}
						mu.Lock()
						for _, j := range jobs {
							if prev, dup := seen[j.ID]; dup {
								t.Errorf("row %d claimed by %s and %s", j.ID, prev, owner)
							}
							seen[j.ID] = owner
						}
						mu.Unlock()
					}
				})
			}
		}
		wg.Wait()
		if len(seen) != n {
			t.Errorf("claimed %d rows, want %d", len(seen), n)
		}
	})
}
