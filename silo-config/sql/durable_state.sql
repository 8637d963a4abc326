-- durable_state.sql: the DDL OrleansPgStore's SeedAsync applies for the default schema and table.
-- Generated from the engine; a test keeps it identical (ORLEANSPGSTORE_UPDATE_SQL=1 rewrites it).
CREATE SCHEMA IF NOT EXISTS "public";
CREATE TABLE IF NOT EXISTS "public"."durable_state" (
    persistence_id text        NOT NULL PRIMARY KEY,
    revision       bigint      NOT NULL CHECK (revision > 0),
    state          jsonb       NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now()
);
DO $upgrade$
BEGIN
    IF (SELECT count(*) FROM pg_attribute
        WHERE attrelid = '"public"."durable_state"'::regclass AND NOT attisdropped AND attname IN ('updated_at')) < 1 THEN
        ALTER TABLE "public"."durable_state"
            ADD COLUMN IF NOT EXISTS updated_at timestamptz NOT NULL DEFAULT now();
    END IF;
END
$upgrade$;
