-- clustering.sql: the DDL OrleansPgStore's SeedAsync applies for the default schema and table.
-- Generated from the engine; a test keeps it identical (ORLEANSPGSTORE_UPDATE_SQL=1 rewrites it).
CREATE SCHEMA IF NOT EXISTS "public";
CREATE SEQUENCE IF NOT EXISTS "public"."orleans_membership_etag_seq" AS bigint;
CREATE TABLE IF NOT EXISTS "public"."orleans_membership_version" (
    cluster_id  text        NOT NULL PRIMARY KEY,
    version     bigint      NOT NULL DEFAULT 0,
    etag        bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS "public"."orleans_membership" (
    cluster_id      text        NOT NULL REFERENCES "public"."orleans_membership_version" (cluster_id) ON DELETE CASCADE,
    address         text        NOT NULL,
    port            integer     NOT NULL,
    generation      integer     NOT NULL,
    silo_name       text,
    host_name       text,
    status          integer     NOT NULL,
    proxy_port      integer     NOT NULL,
    role_name       text,
    update_zone     integer     NOT NULL DEFAULT 0,
    fault_zone      integer     NOT NULL DEFAULT 0,
    suspect_times   jsonb,
    start_time      timestamptz NOT NULL,
    i_am_alive_time timestamptz NOT NULL,
    etag            bigint      NOT NULL,
    PRIMARY KEY (cluster_id, address, port, generation)
);
