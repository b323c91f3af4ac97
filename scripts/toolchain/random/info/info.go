// Package info describes how the Pulumi bridge maps the upstream Terraform
// random provider onto the tokens that the @pulumi/random SDK uses.
package info

import (
	"context"
	"fmt"

	pfbridge "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/pf/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/terraform-providers/terraform-provider-random/shim"
)

// Version is stamped at link time (-X) with the @pulumi/random version.
var Version = "0.0.0-dev"

// Provider returns the bridge configuration for the random provider.
func Provider() tfbridge.ProviderInfo {
	p := tfbridge.ProviderInfo{
		P:       pfbridge.ShimProvider(shim.NewProvider()),
		Name:    "random",
		Version: Version,
		License: "Apache-2.0",
		// No recorded bridge metadata (auto-aliasing history): these builds start fresh.
		MetadataInfo: tfbridge.NewProviderMetadata(nil),
		Resources: map[string]*tfbridge.ResourceInfo{
			// random_bytes has no "id" attribute; use its base64 value.
			"random_bytes": {ComputeID: idFromProperty("base64")},
		},
		EnableAccurateBridgePreview: true,
		EnableRawStateDelta:         true,
	}
	// random_password -> random:index/randomPassword:RandomPassword
	standard := tokens.MakeStandard("random")
	p.MustComputeTokens(tokens.SingleModule("random_", "index",
		func(module, name string) (string, error) { return standard(module, "Random"+name) }))
	return p
}

func idFromProperty(key resource.PropertyKey) tfbridge.ComputeID {
	return func(_ context.Context, state resource.PropertyMap) (resource.ID, error) {
		v, ok := state[key]
		if !ok {
			return "", fmt.Errorf("state has no %q property", key)
		}
		if v.IsSecret() {
			v = v.SecretValue().Element
		}
		if !v.IsString() {
			return "", fmt.Errorf("property %q is not a string", key)
		}
		return resource.ID(v.StringValue()), nil
	}
}
