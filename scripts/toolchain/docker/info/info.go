// Package info describes how the Pulumi bridge maps the upstream Terraform docker provider
// (kreuzwerker/terraform-provider-docker) onto the tokens and names of the @pulumi/docker SDK.
// Only the bridged resources and functions exist here; @pulumi/docker's own docker.Image resource
// (implemented natively in pulumi-docker, not in Terraform) is not available.
package info

import (
	"context"

	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge"
	"github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfbridge/tokens"
	shimv2 "github.com/pulumi/pulumi-terraform-bridge/v3/pkg/tfshim/sdk-v2"
	pulumitokens "github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/terraform-providers/terraform-provider-docker/shim"
)

// Version is stamped at link time (-X) with the @pulumi/docker version.
var Version = "0.0.0-dev"

func resourceTok(name string) string {
	return "docker:index/" + string(name[0]+'a'-'A') + name[1:] + ":" + name
}

// Provider returns the bridge configuration for the docker provider.
func Provider() tfbridge.ProviderInfo {
	p := tfbridge.ProviderInfo{
		P:       shimv2.NewProvider(shim.NewProvider()),
		Name:    "docker",
		Version: Version,
		License: "Apache-2.0",
		// No recorded bridge metadata (auto-aliasing history): these builds start fresh.
		MetadataInfo: tfbridge.NewProviderMetadata(nil),
		Config: map[string]*tfbridge.SchemaInfo{
			"host": {Default: &tfbridge.DefaultInfo{
				EnvVars: []string{"DOCKER_HOST"},
				ComputeDefault: func(context.Context, tfbridge.ComputeDefaultOptions) (interface{}, error) {
					return "unix:///var/run/docker.sock", nil
				},
			}},
			// a list, but the SDK calls it registryAuth
			"registry_auth": {Name: "registryAuth", MaxItemsOne: tfbridge.False()},
		},
		Resources: map[string]*tfbridge.ResourceInfo{
			"docker_config": {Tok: pulumitokens.Type(resourceTok("ServiceConfig"))},
			"docker_container": {
				Tok:                 pulumitokens.Type(resourceTok("Container")),
				DeleteBeforeReplace: true,
				Fields: map[string]*tfbridge.SchemaInfo{
					"command":           {Name: "command"},          // one command, not plural
					"networks_advanced": {Name: "networksAdvanced"}, // not plural in the SDK
				},
			},
			"docker_image": {
				Tok:    pulumitokens.Type(resourceTok("RemoteImage")),
				Fields: map[string]*tfbridge.SchemaInfo{"name": {Name: "name"}},
			},
		},
		DataSources: map[string]*tfbridge.DataSourceInfo{
			"docker_image": {Tok: pulumitokens.ModuleMember("docker:index/getRemoteImage:getRemoteImage")},
		},
	}
	p.MustComputeTokens(tokens.SingleModule("docker_", "index", tokens.MakeStandard("docker")))
	p.SetAutonaming(255, "-")
	return p
}
