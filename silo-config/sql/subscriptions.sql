-- subscriptions.sql: the DDL OrleansPgStore's SeedAsync applies for the default schema and table.
-- Generated from the engine; a test keeps it identical (ORLEANSPGSTORE_UPDATE_SQL=1 rewrites it).
CREATE SCHEMA IF NOT EXISTS "public";
CREATE TABLE IF NOT EXISTS "public"."subscriptions" (
    stream       text        NOT NULL PRIMARY KEY,
    source       text,
    at           bigint      NOT NULL DEFAULT -1,
    work         bigint      NOT NULL DEFAULT -1,
    retry        bigint      NOT NULL DEFAULT -1,
    blocked      boolean     NOT NULL DEFAULT false,
    error        text,
    leased_by    text,
    leased_until timestamptz,
    priority     integer     NOT NULL DEFAULT 0,
    lane         text        NOT NULL DEFAULT '',
    due          timestamptz
);
DO $upgrade$
BEGIN
    IF (SELECT count(*) FROM pg_attribute
        WHERE attrelid = '"public"."subscriptions"'::regclass AND NOT attisdropped AND attname IN ('source', 'at', 'work', 'retry', 'blocked', 'error', 'leased_by', 'leased_until', 'priority', 'lane', 'due')) < 11 THEN
        ALTER TABLE "public"."subscriptions"
            ADD COLUMN IF NOT EXISTS source text,
            ADD COLUMN IF NOT EXISTS at bigint NOT NULL DEFAULT -1,
            ADD COLUMN IF NOT EXISTS work bigint NOT NULL DEFAULT -1,
            ADD COLUMN IF NOT EXISTS retry bigint NOT NULL DEFAULT -1,
            ADD COLUMN IF NOT EXISTS blocked boolean NOT NULL DEFAULT false,
            ADD COLUMN IF NOT EXISTS error text,
            ADD COLUMN IF NOT EXISTS leased_by text,
            ADD COLUMN IF NOT EXISTS leased_until timestamptz,
            ADD COLUMN IF NOT EXISTS priority integer NOT NULL DEFAULT 0,
            ADD COLUMN IF NOT EXISTS lane text NOT NULL DEFAULT '',
            ADD COLUMN IF NOT EXISTS due timestamptz;
    END IF;
END
$upgrade$;
CREATE INDEX IF NOT EXISTS "subscriptions_lagging" ON "public"."subscriptions" (lane, priority DESC, at) WHERE work > at AND NOT blocked;
CREATE INDEX IF NOT EXISTS "subscriptions_frontier" ON "public"."subscriptions" (lane, at) WHERE work > at AND NOT blocked;
DO $checkpoints$
BEGIN
    IF to_regclass('"public"."subscriptions_checkpoints"') IS NULL THEN
        CREATE TABLE IF NOT EXISTS "public"."subscriptions_checkpoints" (
            name         text        NOT NULL PRIMARY KEY,
            at           bigint      NOT NULL DEFAULT -1,
            leased_by    text,
            leased_until timestamptz,
            resume_from  timestamptz
        );
        INSERT INTO "public"."subscriptions_checkpoints" (name, at, leased_by, leased_until, resume_from)
        SELECT CASE WHEN left(stream, 12) = '$checkpoint:' THEN 'discovery:' || substr(stream, 13)
                    ELSE 'retention:' || substr(stream, 12) END,
               at, leased_by, leased_until, due
        FROM "public"."subscriptions"
        WHERE left(stream, 12) = '$checkpoint:' OR left(stream, 11) = '$retention:';
        DELETE FROM "public"."subscriptions" WHERE left(stream, 12) = '$checkpoint:' OR left(stream, 11) = '$retention:';
    END IF;
END
$checkpoints$;
