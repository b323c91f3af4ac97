# harbor-ha: set up PostgreSQL database registry

set -euo pipefail
umask 077
export LC_ALL=C

# ensure_cmd COMMAND DEB_PACKAGE RPM_PACKAGE
ensure_cmd() {
  command -v "$1" >/dev/null 2>&1 && return 0
  echo "installing $2 (for $1)"
  if command -v apt-get >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1 ||
      { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null; }
  elif command -v dnf >/dev/null 2>&1; then
    dnf install -y -q "$3" >/dev/null
  else
    echo "$1 is missing and there is no apt-get or dnf to install it" >&2
    return 1
  fi
  command -v "$1" >/dev/null 2>&1 || { echo "$1 is still missing after installing $2" >&2; return 1; }
}

# put_file PATH MODE: stdin -> PATH, only when content or mode differ; counts PUT_CHANGED.
PUT_CHANGED=0
put_file() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  chmod "$2" "$tmp"
  if [ -f "$1" ] && cmp -s "$tmp" "$1" && [ "$(stat -c %a "$1")" = "$(stat -c %a "$tmp")" ]; then
    rm -f "$tmp"
  else
    mv -f "$tmp" "$1"
    PUT_CHANGED=$((PUT_CHANGED + 1))
  fi
}

# read_bundle DIR: "<mode> <path> <base64>" lines on stdin -> files; sets BUNDLE_CHANGED.
read_bundle() {
  local dir=$1 mode rel b64 before=$PUT_CHANGED
  while read -r mode rel b64; do
    [ -n "$mode" ] || continue
    mkdir -p "$dir/$(dirname "$rel")"
    put_file "$dir/$rel" "$mode" < <(printf '%s' "$b64" | base64 -d)
  done
  BUNDLE_CHANGED=$((PUT_CHANGED - before))
}

main() {
ensure_cmd psql postgresql-client postgresql
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
read_bundle "$tmp"
set -a; . "$tmp/admin.env"; set +a
PGPASSFILE="$tmp/admin.pgpass" psql -X -q -v ON_ERROR_STOP=1 -f "$tmp/setup.sql" >/dev/null
echo "postgresql: database registry owned by its user"
}

main; exit 0
