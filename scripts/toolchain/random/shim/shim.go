// Package shim exposes the upstream provider constructor, which lives in an
// internal package, to the Pulumi bridge. Generated for harbor-ha's toolchain.
package shim

import (
	fwprovider "github.com/hashicorp/terraform-plugin-framework/provider"
	upstream "github.com/terraform-providers/terraform-provider-random/internal/provider"
)

// NewProvider returns the upstream Terraform Plugin Framework provider.
func NewProvider() fwprovider.Provider { return upstream.New() }
