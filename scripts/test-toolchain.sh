#!/usr/bin/env bash
# npm run test:toolchain: the Go tests of harbor-ha's own command provider, among them the parity
# test against answers recorded from the upstream pulumi-resource-command 1.2.1 (Check, Diff and
# the rest), so that a stack moves between ours and upstream's without a change.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=scripts/toolchain/lib.sh
. "$HERE/toolchain/lib.sh"
tc_go_env
cd "$HERE/toolchain/command"
go vet ./...
go test -count=1 ./...
