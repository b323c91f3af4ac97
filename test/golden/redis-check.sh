# harbor-ha: check Redis from harbor-1

set -euo pipefail
umask 077
export LC_ALL=C

main() {
IFS= read -r pw || true
fail() { echo "harbor-1: Redis 10.0.0.5:6379: $1" >&2; exit 1; }
exec 3<>/dev/tcp/10.0.0.5/6379 || fail "cannot connect"
send() { local a; printf '*%d\r\n' "$#" >&3; for a in "$@"; do printf '$%d\r\n%s\r\n' "${#a}" "$a" >&3; done; }
reply() { IFS= read -r -t 10 line <&3 || fail "no answer"; printf '%s' "${line%$'\r'}"; }
if [ -n "$pw" ]; then send AUTH "$pw"; r=$(reply); [ "$r" = "+OK" ] || fail "AUTH refused: $r"; fi
send SELECT 0; r=$(reply); [ "$r" = "+OK" ] || fail "SELECT 0 refused: $r"
send PING; r=$(reply); [ "$r" = "+PONG" ] || fail "PING answered: $r"
exec 3>&-
echo "redis: 10.0.0.5:6379 db 0 answers PING from harbor-1"
}

main; exit 0
