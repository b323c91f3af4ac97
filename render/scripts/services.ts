// Checks and setup of the external services, run on the nodes that will use them.
import { ensureCmdFn, q, readBundleFn, remoteScript, RemoteScript } from "./shell";

/** Creates database and user with the admin credential; loads the schema only into an empty database. */
export function mysqlSetupScript(database: string): RemoteScript {
    return remoteScript(`set up MySQL database ${database}`, `
ensure_cmd mysql mariadb-client mariadb
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
read_bundle "$tmp"
mysql --defaults-extra-file="$tmp/admin.cnf" <"$tmp/setup.sql"
tables=$(mysql --defaults-extra-file="$tmp/admin.cnf" -N -B -e "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = '${database}'")
if [ "$tables" = 0 ]; then
  mysql --defaults-extra-file="$tmp/admin.cnf" ${q(database)} <"$tmp/schema.sql"
  echo "mysql: schema loaded into ${database}"
else
  echo "mysql: ${database} already has $tables tables; schema left as is"
fi
`, [ensureCmdFn, readBundleFn]);
}

/** Harbor's own credential must work from this node. */
export function mysqlCheckScript(database: string, nodeName: string): RemoteScript {
    return remoteScript(`check MySQL from ${nodeName}`, `
ensure_cmd mysql mariadb-client mariadb
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
read_bundle "$tmp"
out=$(mysql --defaults-extra-file="$tmp/harbor.cnf" --connect-timeout=10 -N -B -e 'SELECT 1' ${q(database)} 2>&1) ||
  { echo "${nodeName}: cannot use MySQL database ${database}: $out" >&2; exit 1; }
echo "mysql: ${database} reachable from ${nodeName}"
`, [ensureCmdFn, readBundleFn]);
}

/**
 * AUTH, SELECT and PING over bash's /dev/tcp, in RESP, so no Redis client has to be installed on
 * the node; the password arrives on stdin.
 */
export function redisCheckScript(host: string, port: number, dbIndex: number, nodeName: string): RemoteScript {
    return remoteScript(`check Redis from ${nodeName}`, `
IFS= read -r pw || true
fail() { echo "${nodeName}: Redis ${host}:${port}: $1" >&2; exit 1; }
exec 3<>/dev/tcp/${host}/${port} || fail "cannot connect"
send() { local a; printf '*%d\\r\\n' "$#" >&3; for a in "$@"; do printf '$%d\\r\\n%s\\r\\n' "\${#a}" "$a" >&3; done; }
reply() { IFS= read -r -t 10 line <&3 || fail "no answer"; printf '%s' "\${line%$'\\r'}"; }
if [ -n "$pw" ]; then send AUTH "$pw"; r=$(reply); [ "$r" = "+OK" ] || fail "AUTH refused: $r"; fi
send SELECT ${dbIndex}; r=$(reply); [ "$r" = "+OK" ] || fail "SELECT ${dbIndex} refused: $r"
send PING; r=$(reply); [ "$r" = "+PONG" ] || fail "PING answered: $r"
exec 3>&-
echo "redis: ${host}:${port} db ${dbIndex} answers PING from ${nodeName}"
`);
}

/** Runs SQL from the bundle with the admin credential: the user and the database it owns. */
export function postgresSetupScript(database: string): RemoteScript {
    return remoteScript(`set up PostgreSQL database ${database}`, `
ensure_cmd psql postgresql-client postgresql
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
read_bundle "$tmp"
set -a; . "$tmp/admin.env"; set +a
PGPASSFILE="$tmp/admin.pgpass" psql -X -q -v ON_ERROR_STOP=1 -f "$tmp/setup.sql" >/dev/null
echo "postgresql: database ${database} owned by its user"
`, [ensureCmdFn, readBundleFn]);
}

/** Harbor's own credential must work from this node, on a PostgreSQL new enough for Harbor 2.x. */
export function postgresCheckScript(database: string, nodeName: string, minVersionNum: number): RemoteScript {
    return remoteScript(`check PostgreSQL from ${nodeName}`, `
ensure_cmd psql postgresql-client postgresql
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
read_bundle "$tmp"
set -a; . "$tmp/harbor.env"; set +a
out=$(PGPASSFILE="$tmp/harbor.pgpass" PGCONNECT_TIMEOUT=10 psql -X -A -t -v ON_ERROR_STOP=1 -c 'SHOW server_version_num' 2>&1) ||
  { echo "${nodeName}: cannot use PostgreSQL database ${database}: $out" >&2; exit 1; }
[ "$out" -ge ${minVersionNum} ] 2>/dev/null ||
  { echo "${nodeName}: PostgreSQL ${database} reports version $out; Harbor 2.x needs 12 or newer (server_version_num >= ${minVersionNum})" >&2; exit 1; }
echo "postgresql: ${database} reachable from ${nodeName} (server_version_num $out)"
`, [ensureCmdFn, readBundleFn]);
}
