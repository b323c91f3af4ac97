// Pieces shared by every remote script. Scripts are bash; the SSH login shell may be any POSIX sh,
// so the command line only starts bash, and the script itself arrives on stdin.
import { quote } from "shell-quote";
import { sha256 } from "../bundle";

export const q = (s: string | number): string => quote([String(s)]);

/** POSIX single quotes, for free text: shell-quote would leave a backslash before "!" inside double quotes. */
export const sq = (s: string): string => `'${s.replace(/'/g, "'\\''")}'`;

const header = `set -euo pipefail
umask 077
export LC_ALL=C`;

/** Writes a file atomically, only where its content or mode differs; counts what it changed. */
export const putFileFn = `# put_file PATH MODE: stdin -> PATH, only when content or mode differ; counts PUT_CHANGED.
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
}`;

/** Writes the files of the stdin bundle (render/bundle.ts) under a directory, only where they differ. */
export const readBundleFn = `${putFileFn}

# read_bundle DIR: "<mode> <path> <base64>" lines on stdin -> files; sets BUNDLE_CHANGED.
read_bundle() {
  local dir=$1 mode rel b64 before=$PUT_CHANGED
  while read -r mode rel b64; do
    [ -n "$mode" ] || continue
    mkdir -p "$dir/$(dirname "$rel")"
    put_file "$dir/$rel" "$mode" < <(printf '%s' "$b64" | base64 -d)
  done
  BUNDLE_CHANGED=$((PUT_CHANGED - before))
}`;

/** Installs a package when its command is missing (Debian/Ubuntu or RHEL family). */
export const ensureCmdFn = `# ensure_cmd COMMAND DEB_PACKAGE RPM_PACKAGE
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
}`;

export const composeFn = `compose() {
  if command -v docker-compose >/dev/null 2>&1; then docker-compose "$@"
  elif docker compose version >/dev/null 2>&1; then docker compose "$@"
  else echo "neither docker-compose nor the docker compose plugin is installed" >&2; return 1
  fi
}`;

/** A script run by `command`: the text travels on stdin, ahead of any bundle it reads. */
export interface RemoteScript {
    /** Short, so a failure's message (which quotes the command line) stays readable. */
    command: string;
    text: string;
}

/**
 * The body runs inside main(), called on the script's last line: bash reads its input line by line
 * and parses that whole line before running it, so what main then reads from stdin is the data
 * after the script, never the script itself.
 */
export function remoteScript(name: string, body: string, fns: string[] = []): RemoteScript {
    if (/[\n$`"'\\]/.test(name)) throw new Error(`script name must be plain text: ${name}`);
    const text = [`# harbor-ha: ${name}`, header, ...fns, `main() {\n${body.trim()}\n}`, "main; exit 0\n"].join("\n\n");
    return { command: `bash -s # harbor-ha: ${name} (script ${sha256(text).slice(0, 12)})`, text };
}

/** For delete: the script inline in the command line, stdin closed (delete receives the create's stdin). */
export function inlineScript(name: string, body: string, fns: string[] = []): string {
    const text = [`# harbor-ha: ${name}`, header, "exec </dev/null", ...fns, body.trim()].join("\n\n");
    if (text.includes("\nHARBOR_HA_SCRIPT\n")) throw new Error("script contains its own delimiter");
    return `bash -c "$(cat <<'HARBOR_HA_SCRIPT'\n${text}\nHARBOR_HA_SCRIPT\n)"`;
}
