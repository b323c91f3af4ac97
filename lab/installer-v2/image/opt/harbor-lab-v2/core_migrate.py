"""Schema migration at core start, the way Harbor's core runs golang-migrate (pgx driver):

* one session takes pg_advisory_lock; waiting longer than 15 s fails with
  "timeout: can't acquire database lock" and core exits (compose `restart: always` retries);
* schema_migrations(version bigint, dirty boolean) holds one row; each step sets
  (version, dirty=true), runs, then sets dirty=false: a core killed mid-step leaves it dirty;
* a database at a version this build does not know ("no migration found for version N") or
  dirty ("Dirty database version N. Fix and force version.") stops core at start.

The lab's schema is its own (tables for users, projects, settings, executions, tasks, registry
endpoints and replication policies, all created by the first step); only the
version numbers follow Harbor's (make/migrations/postgresql/00NN_*.up.sql). The newest one is a
build parameter (HARBOR_LAB_SCHEMA), so two lab installers can differ in schema."""
import os
import time
import zlib

import psycopg2
import psycopg2.errors

LOCK_TIMEOUT_S = 15
# golang-migrate's GenerateAdvisoryLockId: crc32(database name + schema name) * salt (uint32).
ADVISORY_SALT = 1486364155
# Harbor's schema versions up to 2.15 (the lab build adds its own newest one).
LADDER = [10, 130, 140, 150, 160, 170, 171, 180]

INITIAL = """
CREATE TABLE harbor_user (
  user_id serial PRIMARY KEY,
  username varchar(255) UNIQUE NOT NULL,
  email varchar(255),
  password varchar(40) NOT NULL DEFAULT '',
  password_version varchar(16) DEFAULT 'sha256',
  salt varchar(40) DEFAULT '',
  realname varchar(255),
  sysadmin_flag boolean DEFAULT false,
  creation_time timestamp DEFAULT CURRENT_TIMESTAMP,
  update_time timestamp DEFAULT CURRENT_TIMESTAMP
);
INSERT INTO harbor_user (username, email, realname, sysadmin_flag)
  VALUES ('admin', 'admin@example.com', 'system admin', true);
CREATE TABLE project (
  project_id serial PRIMARY KEY,
  owner_id int NOT NULL REFERENCES harbor_user(user_id),
  name varchar(255) UNIQUE NOT NULL,
  public boolean NOT NULL DEFAULT false,
  creation_time timestamp DEFAULT CURRENT_TIMESTAMP,
  update_time timestamp DEFAULT CURRENT_TIMESTAMP,
  deleted boolean DEFAULT false
);
INSERT INTO project (owner_id, name, public) VALUES (1, 'library', true);
CREATE TABLE properties (
  id serial PRIMARY KEY,
  k varchar(64) UNIQUE NOT NULL,
  v text NOT NULL
);
CREATE TABLE execution (
  id serial PRIMARY KEY,
  vendor_type varchar(64) NOT NULL,
  vendor_id int,
  status varchar(16),
  status_message text,
  trigger varchar(16) NOT NULL,
  extra_attrs json,
  start_time timestamp DEFAULT CURRENT_TIMESTAMP,
  update_time timestamp,
  end_time timestamp
);
CREATE TABLE task (
  id serial PRIMARY KEY,
  execution_id int NOT NULL REFERENCES execution(id),
  job_id varchar(64),
  status varchar(16) NOT NULL,
  status_code int NOT NULL DEFAULT 0,
  status_message text,
  run_count int DEFAULT 0,
  extra_attrs json,
  creation_time timestamp DEFAULT CURRENT_TIMESTAMP,
  start_time timestamp,
  update_time timestamp,
  end_time timestamp
);
CREATE TABLE registry (
  id serial PRIMARY KEY,
  name varchar(64) UNIQUE NOT NULL,
  url varchar(256) NOT NULL,
  credential_type varchar(16),
  access_key varchar(255),
  access_secret varchar(4096),
  type varchar(32) NOT NULL,
  insecure boolean NOT NULL DEFAULT false,
  description text,
  health varchar(16),
  creation_time timestamp DEFAULT CURRENT_TIMESTAMP,
  update_time timestamp DEFAULT CURRENT_TIMESTAMP
);
CREATE TABLE replication_policy (
  id serial PRIMARY KEY,
  name varchar(256) UNIQUE NOT NULL,
  src_registry_id int,
  dest_registry_id int,
  dest_namespace varchar(256),
  filters text,
  trigger text,
  override boolean NOT NULL DEFAULT false,
  enabled boolean NOT NULL DEFAULT true,
  creation_time timestamp DEFAULT CURRENT_TIMESTAMP,
  update_time timestamp DEFAULT CURRENT_TIMESTAMP
);
"""


def migrations(newest):
    """{version: sql} this build knows: Harbor's ladder up to `newest`, plus `newest` itself."""
    known = {v: "SELECT 1" for v in LADDER if v <= newest}
    known[newest] = "SELECT 1"
    known[10] = INITIAL
    return dict(sorted(known.items()))


class MigrationError(Exception):
    pass


def lock_id(dbname, schema="public"):
    return (zlib.crc32((dbname + schema).encode()) * ADVISORY_SALT) & 0xFFFFFFFF


def _set_version(cur, version, dirty):
    cur.execute("TRUNCATE schema_migrations")
    cur.execute("INSERT INTO schema_migrations (version, dirty) VALUES (%s, %s)", (version, dirty))


def migrate(conn, dbname, newest, log, delay=0.0):
    """Migrate `conn`'s database up to `newest`. `delay` (lab knob HARBOR_LAB_MIGRATION_DELAY)
    holds the lock longer, so tests can make other cores lose the race."""
    known = migrations(newest)
    conn.autocommit = True
    cur = conn.cursor()
    lid = lock_id(dbname)
    cur.execute("SET statement_timeout = %s", ("%ds" % LOCK_TIMEOUT_S,))
    try:
        cur.execute("SELECT pg_advisory_lock(%s)", (lid,))
    except psycopg2.errors.QueryCanceled:
        raise MigrationError("timeout: can't acquire database lock")
    finally:
        cur.execute("SET statement_timeout = 0")
    try:
        cur.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version bigint NOT NULL PRIMARY KEY, dirty boolean NOT NULL)")
        cur.execute("SELECT version, dirty FROM schema_migrations LIMIT 1")
        row = cur.fetchone()
        current, dirty = (row[0], row[1]) if row else (None, False)
        if dirty:
            raise MigrationError("Dirty database version %d. Fix and force version." % current)
        if current is not None and current not in known:
            raise MigrationError("no migration found for version %d" % current)
        pending = [v for v in known if current is None or v > current]
        if not pending:
            log("the database schema is up to date (version %s)", current)
            return current
        if delay:
            log("lab: holding the migration lock %.0fs before migrating", delay)
            time.sleep(delay)
        for v in pending:
            _set_version(cur, v, True)
            cur.execute(known[v])
            _set_version(cur, v, False)
            log("migrated the database schema to version %d", v)
        return pending[-1]
    finally:
        cur.execute("SELECT pg_advisory_unlock(%s)", (lid,))


def schema_version():
    return int(os.environ.get("HARBOR_LAB_SCHEMA", "180"))
