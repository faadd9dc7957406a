-- Who may read a timeline event (lianxin.Audience): 'resident' events are
-- written in words fit for the resident, who sees them under 进度; 'staff'
-- events (routing reasons, a deputy's 退回 reason, internal notes, supervision)
-- are for deputies and staff only. Events written before this migration were
-- all worded for staff; the kinds whose text was always meant for the
-- resident (the deputy's answer, progress, resolution, the resident's own
-- rating) become resident events, everything else stays internal.
ALTER TABLE case_events ADD COLUMN audience TEXT NOT NULL DEFAULT 'staff';
UPDATE case_events SET audience = 'resident'
    WHERE type IN ('created', 'staff_requested', 'accepted', 'answered', 'progress', 'resolved', 'rated', 'reopened');
