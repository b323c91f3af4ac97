#!/usr/bin/env bash
# Run by tc_build_bridged inside the build directory: lays out ./upstream, a copy of the upstream
# Terraform provider from the Go module cache (downloaded through the Go module proxy and checked
# against the hash below), plus shim/shim.go, which exposes its internal provider constructor to the
# bridge (the same few lines pulumi-docker adds with a patch to its git submodule).
set -euo pipefail
mod=github.com/kreuzwerker/terraform-provider-docker
ver=v0.0.0-20260916201441-96d331c98ff4
sum='h1:T3HvvZCRd4h2qkMl+SXA2zza26Rdz8xqV81skikQWy4='

json="$(go mod download -json "$mod@$ver")"
dir="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')"
got="$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p')"
[ "$got" = "$sum" ] || { echo "unexpected hash for $mod@$ver: $got (want $sum)" >&2; exit 1; }
rm -rf upstream
cp -R "$dir" upstream
chmod -R u+w upstream
mkdir -p upstream/shim
cat >upstream/shim/shim.go <<'GO'
// Package shim exposes the provider constructor of internal/provider to the Pulumi bridge.
// Written by harbor-ha's scripts/toolchain/docker/prepare.sh.
package shim

import (
	"github.com/hashicorp/terraform-plugin-sdk/v2/helper/schema"
	"github.com/terraform-providers/terraform-provider-docker/internal/provider"
)

// NewProvider returns the upstream SDKv2 provider.
func NewProvider() *schema.Provider { return provider.New("dev")() }
GO
