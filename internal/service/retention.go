package service

import (
	"context"
	"time"
)

// retentionBatch bounds one erasure transaction, so the single writer is
// never held long away from the webhook's journal records.
const retentionBatch = 50

// retention erases residents' contact details from cases closed longer
// than privacy.retention ago: at start, then every privacy.interval, until
// ctx is cancelled.
func (s *Service) retention(ctx context.Context) {
	if s.Config.Privacy.Retention.Duration <= 0 {
		return
	}
	t := time.NewTicker(s.Config.Privacy.Interval.Duration)
	defer t.Stop()
	for {
		if n, err := s.ErasePass(ctx); err != nil && ctx.Err() == nil {
			s.log.Error("erasing expired contact details failed; retrying at the next interval", "err", err)
		} else if n > 0 {
			s.log.Info("erased residents' contact details from cases closed beyond the retention period", "cases", n,
				"retention", s.Config.Privacy.Retention.Duration)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// ErasePass erases, batch by batch, the contact details of every case
// closed before the retention period, and returns how many it erased.
func (s *Service) ErasePass(ctx context.Context) (int, error) {
	before := s.opts.Clock().Add(-s.Config.Privacy.Retention.Duration)
	// Who gave the opinions of consultations that ended before then.
	if n, err := s.DB.EraseExpiredOpinions(ctx, before); err != nil {
		return 0, err
	} else if n > 0 {
		s.log.Info("erased contributors' contact details from consultations ended beyond the retention period", "opinions", n)
	}
	total := 0
	for ctx.Err() == nil {
		n, err := s.DB.EraseExpired(ctx, before, retentionBatch)
		total += n
		if err != nil || n < retentionBatch {
			return total, err
		}
		// Let the webhook's writes in between batches.
		select {
		case <-ctx.Done():
		case <-time.After(50 * time.Millisecond):
		}
	}
	return total, ctx.Err()
}
