# shellcheck shell=bash disable=SC2034
# Pinned versions of the Pulumi toolchain for harbor-ha (sourced by install-pulumi.sh).
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
