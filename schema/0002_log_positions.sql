-- 0002_log_positions.sql - where `bounced logs --follow` stopped reading
-- each MTA log, so a restart goes on from there instead of reading the
-- whole log again or missing what was written meanwhile.
--
-- A separate migration because it belongs to the log follower, not to the
-- message store; it is also the upgrade the tests apply on top of 0001.

CREATE TABLE log_positions (
	-- the log as named on the command line ("/var/log/mail.log")
	source text PRIMARY KEY,
	-- the file last read: a new inode (or a smaller size) means the log
	-- was rotated and reading starts again at 0
	device bigint NOT NULL,
	inode bigint NOT NULL,
	byte_offset bigint NOT NULL CHECK (byte_offset >= 0),
	updated_at timestamptz NOT NULL DEFAULT now()
);
