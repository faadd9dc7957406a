-- A photo or voice sent on to a deputy (详情) is uploaded to WeChat as
-- temporary media, which WeChat keeps 3 days; the media id and when it was
-- uploaded are kept so later sends reuse it instead of uploading again.
ALTER TABLE attachments ADD COLUMN wx_media_id TEXT NOT NULL DEFAULT '';
ALTER TABLE attachments ADD COLUMN wx_uploaded_at TIMESTAMP;
