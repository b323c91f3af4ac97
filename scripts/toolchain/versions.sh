# shellcheck shell=bash disable=SC2034
# Pinned versions of what harbor-ha builds from Go modules: the Pulumi toolchain (sourced by
# install-pulumi.sh) and the Docker Compose v2 CLI plugin of the lab VMs (compose.sh).
#
# The plugin versions must equal the "pulumi" section of node_modules/@pulumi/<name>/package.json;
# install-pulumi.sh refuses to continue when they differ. Every Go source comes from the Go module
# proxy at the exact versions below (or from the go.mod/go.sum files next to this file).

# Pulumi CLI: github.com/pulumi/pulumi/pkg/v3 (tag pkg/v3.259.0) + sdk/v3 (tag sdk/v3.259.0).
TC_PULUMI_VERSION=3.259.0

# Node.js language host. Its own module (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3)
# is not served by the Go module proxy at any version, so it is built from the last sdk/v3 release that
# still contained it as a package (sdk/v3 v3.68.0, May 2023). See scripts/toolchain/README.md.
TC_LANGHOST_SDK_VERSION=3.68.0

# Provider plugins (name version), as the npm SDKs ask for them.
TC_PLUGIN_RANDOM_VERSION=4.21.1
TC_PLUGIN_COMMAND_VERSION=1.2.1
TC_PLUGIN_DOCKER_VERSION=5.2.0

# Docker Compose v2 CLI plugin for the lab VMs (scripts/toolchain/compose.sh): Harbor 2.x needs
# `docker compose` >= 2.3 and Debian bookworm ships only docker-compose 1.29.2. Built from upstream's own
# module github.com/docker/compose/v2 at this tag (its go.mod asks for Go 1.24.9; Go 1.26 builds it).
TC_COMPOSE_VERSION=2.40.3
