-- 0001_initial.sql - the first bounced schema: lists, raw messages, events
-- (partitioned by month), the keys that make SMTP results idempotent, and
-- per-recipient state.  PostgreSQL 13 or later.
--
-- Applied by `bounced db migrate` in one transaction; schema_migrations
-- itself is created by the migration runner (bounced/migrate.c), not here.
-- Never edit this file once released: add 0002_..., 0003_... instead
-- (see schema/README.md).

-- A mailing list, by the name the MTA or list manager gives it.  Lists are
-- never deleted while events name them (events carry list_id without a
-- foreign key, see below).
CREATE TABLE lists (
	id serial PRIMARY KEY,
	name text NOT NULL UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now()
);

-- Every message that arrived at a bounce address, exactly as received,
-- whether or not it could be parsed: the raw bytes are what a better
-- parser reads again later.  sha256 makes delivery idempotent: the same
-- bytes delivered twice are stored once (the second is a duplicate).
CREATE TABLE messages (
	id bigserial PRIMARY KEY,
	sha256 bytea NOT NULL UNIQUE CHECK (octet_length(sha256) = 32),
	received_at timestamptz NOT NULL,
	stored_at timestamptz NOT NULL DEFAULT now(),
	size bigint NOT NULL CHECK (size >= 0),
	-- NULL once a retention job has dropped the bytes (sha256 stays, so
	-- a re-delivery is still recognised)
	raw bytea,
	kind text NOT NULL CHECK (kind IN ('unknown', 'bounce', 'delayed',
	    'delivered', 'complaint', 'autoreply')),
	format text,
	-- ok: read; unrecognized: read, but not a kind bounced knows;
	-- error: could not be read; over_limit: over a configured limit
	-- (the bytes kept may be cut at the limit; size is what arrived)
	parse_status text NOT NULL CHECK (parse_status IN ('ok',
	    'unrecognized', 'error', 'over_limit')),
	parse_error text,
	list_id integer,		-- lists.id (no foreign key: see events)
	envelope_sender text,
	bounce_address text,
	original_message_id text,
	campaign_id text,
	-- how it came in: pipe (one message from the MTA), batch (a Maildir
	-- or mbox import)...
	source text NOT NULL,
	recipient_count integer NOT NULL DEFAULT 0
)
-- Most bounces are a few KiB: kept in the row, uncompressed, up to about
-- 8 KiB (instead of compressed or moved to TOAST past 2 KiB), which is
-- what makes storing them cheap; bigger ones are compressed as usual.
WITH (toast_tuple_target = 8160);
CREATE INDEX messages_received_at_idx ON messages (received_at);

-- One row per recipient per bounce, and per synchronous SMTP result read
-- from an MTA log or a JSON line.  Partitioned by month on occurred_at so
-- an installation keeps years of events and drops or archives whole months
-- (DETACH PARTITION) without a long DELETE.
--
-- Keys and partitioning: a unique index on a partitioned table must
-- contain the partition key, so "this SMTP result was stored already"
-- cannot be a unique index on events alone (the same log line read again
-- after a rotation may get another year guessed for its time stamp, and so
-- another occurred_at).  Idempotency lives outside events instead:
--   - a bounce's events are inserted only by the statement that inserted
--     its message, so messages.sha256 makes them unique;
--   - an SMTP result's key (SHA-256 of the source name and the line) goes
--     into event_keys, a plain table with a primary key, in the same
--     statement as the event.
--
-- No foreign keys from events: message_id and list_id are plain numbers.
-- A foreign key would make every event insert look up and share-lock the
-- referenced row (one hot lists row for every writer), and retention
-- (dropping raw messages after months, event partitions after years) is
-- simpler when the two are independent.  The store writes both in one
-- transaction, so the references are right when written.
--
-- id is not an identity column: partitioned tables get those only in
-- PostgreSQL 17; a sequence default works on 13.
CREATE TABLE events (
	id bigserial NOT NULL,
	occurred_at timestamptz NOT NULL,
	received_at timestamptz NOT NULL DEFAULT now(),
	source text NOT NULL CHECK (source IN ('bounce', 'smtp-log',
	    'smtp-json')),
	message_id bigint,		-- messages.id, for source 'bounce'
	rcpt_index integer,		-- the recipient's place in the bounce
	dedup_key bytea,		-- event_keys.dedup_key, SMTP results
	recipient text,			-- lower-cased
	list_id integer,		-- lists.id
	original_message_id text,	-- Message-ID of what bounced
	campaign_id text,
	kind text NOT NULL CHECK (kind IN ('unknown', 'bounce', 'delayed',
	    'delivered', 'complaint', 'autoreply')),
	action text,			-- DSN Action, or the log's status
	phase text CHECK (phase IN ('connect', 'helo', 'mail', 'rcpt',
	    'data', 'eod')),
	reply_code smallint CHECK (reply_code BETWEEN 0 AND 999),
	status text,			-- most specific enhanced code
	dsn_status text,		-- the DSN's Status: as given
	diagnostic text,
	remote_mta text,
	category text CHECK (category IN ('hard', 'soft', 'reputation',
	    'content')),
	reason text,
	rule text,
	PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);

-- Rows whose month has no partition land here, so an insert never fails
-- for a missing month; bounced_ensure_partition() moves them out when the
-- month's partition is made.
CREATE TABLE events_default PARTITION OF events DEFAULT;

-- The queries policy and reports make: a recipient's history, a list's
-- events, what failed for a reason over a period, a message's events.
CREATE INDEX events_recipient_idx ON events (recipient, occurred_at);
CREATE INDEX events_list_idx ON events (list_id, occurred_at);
CREATE INDEX events_category_idx ON events (category, occurred_at);
CREATE INDEX events_message_idx ON events (message_id)
    WHERE message_id IS NOT NULL;

-- Keys of the SMTP results stored (see events).  occurred_at is kept so a
-- retention job can drop the keys of the months it drops.
CREATE TABLE event_keys (
	dedup_key bytea PRIMARY KEY CHECK (octet_length(dedup_key) = 32),
	occurred_at timestamptz NOT NULL,
	stored_at timestamptz NOT NULL DEFAULT now()
);

-- What policy decided about one address on one list, with the counters it
-- decides from.  Written by the policy module, not by the ingest path.
CREATE TABLE recipients (
	list_id integer NOT NULL REFERENCES lists (id),
	address text NOT NULL,		-- lower-cased
	state text NOT NULL DEFAULT 'active' CHECK (state IN ('active',
	    'held', 'disabled', 'unsubscribed')),
	state_reason text,
	state_changed_at timestamptz NOT NULL DEFAULT now(),
	soft_streak integer NOT NULL DEFAULT 0,
	hard_count integer NOT NULL DEFAULT 0,
	complaint_count integer NOT NULL DEFAULT 0,
	first_failure_at timestamptz,
	last_failure_at timestamptz,
	last_event_at timestamptz,
	last_success_at timestamptz,
	PRIMARY KEY (list_id, address)
);
CREATE INDEX recipients_address_idx ON recipients (address);
CREATE INDEX recipients_state_idx ON recipients (list_id, state)
    WHERE state <> 'active';

-- Make sure the month of ts has its own partition of events and return
-- its name (events_YYYYMM, months in UTC).  Safe to call concurrently and
-- again.  Rows of that month already in events_default are moved into
-- the new partition.  The store calls it outside its write transactions,
-- before writing a month it has not seen yet.
CREATE FUNCTION bounced_ensure_partition(ts timestamptz) RETURNS text
LANGUAGE plpgsql AS $fn$
DECLARE
	lo_utc timestamp := date_trunc('month', ts AT TIME ZONE 'UTC');
	lo timestamptz := lo_utc AT TIME ZONE 'UTC';
	hi timestamptz := (lo_utc + interval '1 month') AT TIME ZONE 'UTC';
	part text := 'events_' || to_char(lo_utc, 'YYYYMM');
BEGIN
	IF to_regclass(quote_ident(part)) IS NOT NULL THEN
		RETURN part;
	END IF;
	BEGIN
		EXECUTE format('CREATE TABLE %I PARTITION OF events '
		    'FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
	EXCEPTION
	WHEN duplicate_table THEN
		NULL;	-- made by a concurrent caller
	WHEN check_violation THEN
		-- the default partition holds rows of this month: make the
		-- partition apart, move them, attach it
		EXECUTE format('CREATE TABLE %I (LIKE events INCLUDING '
		    'DEFAULTS INCLUDING CONSTRAINTS)', part);
		EXECUTE format('WITH moved AS (DELETE FROM events_default '
		    'WHERE occurred_at >= %L AND occurred_at < %L '
		    'RETURNING *) INSERT INTO %I SELECT * FROM moved',
		    lo, hi, part);
		EXECUTE format('ALTER TABLE events ATTACH PARTITION %I '
		    'FOR VALUES FROM (%L) TO (%L)', part, lo, hi);
	END;
	RETURN part;
END
$fn$;

-- this month and the next, so a fresh installation writes into real
-- partitions from the start
SELECT bounced_ensure_partition(now());
SELECT bounced_ensure_partition(now() + interval '1 month');
