package main

import (
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfgen"

	"harbor-ha.local/toolchain/random/info"
)

func main() { tfgen.Main("random", info.Provider()) }
