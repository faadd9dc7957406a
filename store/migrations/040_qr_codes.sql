-- Parametric QR codes (代表码, issue 14): the permanent code WeChat made for
-- each deputy and station (scene deputy:ID / station:ID), kept so it is
-- asked for once (WeChat caps an account's permanent codes) and printed
-- from the stored URL.
CREATE TABLE qr_codes (
	scene      TEXT PRIMARY KEY,
	ticket     TEXT NOT NULL,
	url        TEXT NOT NULL,
	created_at TIMESTAMP NOT NULL
);
