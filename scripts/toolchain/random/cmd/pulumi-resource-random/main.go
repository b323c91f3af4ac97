package main

import (
	"context"
	_ "embed"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"

	"harbor-ha.local/toolchain/random/info"
)

//go:embed schema.json
var schema []byte

func main() {
	pfbridge.Main(context.Background(), "random", info.Provider(), pfbridge.ProviderMetadata{PackageSchema: schema})
}
