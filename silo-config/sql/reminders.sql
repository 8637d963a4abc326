-- reminders.sql: the DDL OrleansPgStore's SeedAsync applies for the default schema and table.
-- Generated from the engine; a test keeps it identical (ORLEANSPGSTORE_UPDATE_SQL=1 rewrites it).
CREATE SCHEMA IF NOT EXISTS "public";
CREATE SEQUENCE IF NOT EXISTS "public"."orleans_reminders_etag_seq" AS bigint;
CREATE TABLE IF NOT EXISTS "public"."orleans_reminders" (
    service_id    text        NOT NULL,
    grain_id      text        NOT NULL,
    reminder_name text        NOT NULL,
    grain_hash    bigint      NOT NULL CHECK (grain_hash BETWEEN 0 AND 4294967295),
    start_at      timestamptz NOT NULL,
    period_ticks  bigint      NOT NULL,
    etag          bigint      NOT NULL,
    PRIMARY KEY (service_id, grain_id, reminder_name)
);
CREATE INDEX IF NOT EXISTS "orleans_reminders_ring" ON "public"."orleans_reminders" (service_id, grain_hash);
