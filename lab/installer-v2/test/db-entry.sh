#!/bin/bash
# Entry point of the self-test's database container: PostgreSQL 15 (database registry owned by
# user harbor, password H2st-pg) and Redis (password H2st-redis), both in this container.
set -euo pipefail
pg=/usr/lib/postgresql/15/bin
data=/tmp/pgdata
install -d -o postgres -g postgres -m 0700 "$data" /run/postgresql
echo H2st-pg >/tmp/pgpw && chown postgres /tmp/pgpw
runuser -u postgres -- "$pg/initdb" -D "$data" -A md5 --pwfile=/tmp/pgpw -U postgres >/dev/null
echo "listen_addresses = '*'" >>"$data/postgresql.conf"
echo "host all all 0.0.0.0/0 md5" >>"$data/pg_hba.conf"
runuser -u postgres -- "$pg/pg_ctl" -D "$data" -w -l /tmp/pg.log start >/dev/null
PGPASSWORD=H2st-pg psql -h 127.0.0.1 -U postgres -qc "CREATE ROLE harbor LOGIN PASSWORD 'H2st-pg'"
for db in registry registry2 registry3; do
  PGPASSWORD=H2st-pg psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db OWNER harbor"
done
echo "ready" >/tmp/ready
exec redis-server --bind 0.0.0.0 --protected-mode no --requirepass H2st-redis --save '' --appendonly no
