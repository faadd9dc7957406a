-- PostgreSQL port of 009_media_uploads.sql.
ALTER TABLE attachments ADD COLUMN wx_media_id TEXT NOT NULL DEFAULT '';
ALTER TABLE attachments ADD COLUMN wx_uploaded_at TIMESTAMPTZ;
