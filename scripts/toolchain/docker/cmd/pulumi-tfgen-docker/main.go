package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfgen"

	"harbor-ha.local/toolchain/docker/info"
)

func main() { tfgen.Main("docker", info.Version, info.Provider()) }
