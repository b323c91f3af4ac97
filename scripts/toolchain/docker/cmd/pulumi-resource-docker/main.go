package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"

	"harbor-ha.local/toolchain/docker/info"
)

//go:embed schema.json
var schema []byte

func main() { tfbridge.Main("docker", info.Version, info.Provider(), schema) }
