-- 0003_raw_lz4.sql - raw messages compressed with LZ4 where the server has
-- it (PostgreSQL 14 or later built with LZ4, as the Debian, Ubuntu, Red Hat
-- and official Docker builds are): every message over about 2 KiB, instead
-- of 0001's pglz for those over 8 KiB only.
--
-- Why: the raw bytes are most of what the store writes.  On a Maildir of
-- real bounces (bench/store.sh) pglz was about a quarter of the server's
-- CPU time for the ~10% of messages over 8 KiB; LZ4 compresses several
-- times faster, so compressing every message costs less CPU than pglz did
-- for the few, and the rows, the WAL and the disk writes shrink by about
-- a quarter (server CPU -30%, WAL 237 -> 182 MB for 50,000 messages).
-- Reading a message back decompresses it (LZ4 decompresses at GB/s).
--
-- Where LZ4 is not there (PostgreSQL 13, or a build without it) nothing
-- changes: pglz for every message would cost more than it saves.
--
-- Only rows written from now on are compressed so: SET COMPRESSION and
-- RESET (toast_tuple_target) change the catalog, rewrite nothing and hold
-- their lock for a moment only.  EXECUTE because PostgreSQL 13 cannot
-- parse SET COMPRESSION.
DO $$
BEGIN
	IF current_setting('server_version_num')::integer >= 140000 THEN
		BEGIN
			EXECUTE 'ALTER TABLE messages ALTER COLUMN raw '
			    'SET COMPRESSION lz4';
			EXECUTE 'ALTER TABLE messages RESET (toast_tuple_target)';
		EXCEPTION WHEN feature_not_supported THEN
			NULL;	-- built without LZ4: keep 0001's settings
		END;
	END IF;
END
$$;
