-- journal.sql: the DDL OrleansPgStore's SeedAsync applies for the default schema and table.
-- Generated from the engine; a test keeps it identical (ORLEANSPGSTORE_UPDATE_SQL=1 rewrites it).
CREATE SCHEMA IF NOT EXISTS "public";
CREATE TABLE IF NOT EXISTS "public"."events_positions" (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    xid_offset bigint NOT NULL DEFAULT 0
);
DO $positions$
BEGIN
    -- Only when missing: a role that may only read the positions table can still seed.
    IF NOT EXISTS (SELECT 1 FROM "public"."events_positions") THEN
        INSERT INTO "public"."events_positions" DEFAULT VALUES ON CONFLICT DO NOTHING;
    END IF;
END
$positions$;
CREATE TABLE IF NOT EXISTS "public"."events" (
    position    bigint      NOT NULL PRIMARY KEY,
    stream      text        NOT NULL,
    version     bigint      NOT NULL,
    name        text        NOT NULL,
    data        jsonb       NOT NULL,
    snapshot    boolean     NOT NULL DEFAULT false,
    event_id    uuid,
    correlation text,
    causation   jsonb,
    created     timestamptz NOT NULL DEFAULT now()
);
DO $upgrade$
BEGIN
    IF (SELECT count(*) FROM pg_attribute
        WHERE attrelid = '"public"."events"'::regclass AND NOT attisdropped AND attname IN ('snapshot', 'event_id', 'correlation', 'causation', 'created')) < 5 THEN
        ALTER TABLE "public"."events"
            ADD COLUMN IF NOT EXISTS snapshot boolean NOT NULL DEFAULT false,
            ADD COLUMN IF NOT EXISTS event_id uuid,
            ADD COLUMN IF NOT EXISTS correlation text,
            ADD COLUMN IF NOT EXISTS causation jsonb,
            ADD COLUMN IF NOT EXISTS created timestamptz NOT NULL DEFAULT now();
    END IF;
END
$upgrade$;
CREATE UNIQUE INDEX IF NOT EXISTS "events_stream_version" ON "public"."events" (stream, version, snapshot);
CREATE INDEX IF NOT EXISTS "events_snapshots" ON "public"."events" (stream, version) WHERE snapshot;
CREATE UNIQUE INDEX IF NOT EXISTS "events_event_id" ON "public"."events" (stream, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS "events_correlation" ON "public"."events" (correlation) WHERE correlation IS NOT NULL;
CREATE INDEX IF NOT EXISTS "events_snapshot_age" ON "public"."events" (created, position) WHERE snapshot;
