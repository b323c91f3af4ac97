#!/usr/bin/env bash
# Turns a `pulumi preview` log into the Markdown of a pull-request comment (stdout).
# Usage: scripts/ci/preview-comment.sh STACK EXIT_CODE PREVIEW_LOG
set -euo pipefail
stack=${1:?stack}; code=${2:?exit code}; log=${3:?preview log}
[ -f "$log" ] || { echo "no preview log at $log" >&2; exit 1; }
if [ "$code" = 0 ]; then verdict="preview succeeded"; else verdict="**preview FAILED** (exit $code)"; fi
summary=$(grep -E '^Resources:|^ +[0-9]+ (to create|to update|to replace|to delete|unchanged)|^ +[+~-] [0-9]+ ' "$log" | sed 's/^ *//' | paste -sd ' ' - || true)
echo "<!-- harbor-ha-preview:$stack -->"
echo "### \`pulumi preview --stack $stack\`: $verdict"
[ -n "$summary" ] && echo && echo "$summary"
echo
echo "<details><summary>Full preview</summary>"
echo
echo '```'
# Comments have a size limit; the end of a preview (diagnostics, policy violations) matters most.
tail -c 60000 "$log" | sed -e 's/\x1b\[[0-9;]*m//g'
echo '```'
echo "</details>"
