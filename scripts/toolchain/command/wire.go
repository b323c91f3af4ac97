package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"google.golang.org/protobuf/types/known/structpb"
)

// Property maps travel as protobuf structs. @pulumi/command 1.2.1 (pulumi-go-provider 1.3.0 on
// Pulumi SDK 3.224) reads them with these options and converts every value to the SDK's newer
// property model and back before using it; answers are written the same way. Doing the same here
// makes our answers byte-for-byte those of upstream (testdata/*.json holds upstream's answers).
var wireOpts = plugin.MarshalOptions{
	KeepUnknowns: true, SkipNulls: true, KeepResources: true, KeepSecrets: true, KeepOutputValues: true,
}

// unmarshal reads a request's property map in normal form (see normalize).
func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	m, err := plugin.UnmarshalProperties(s, wireOpts)
	if err != nil {
		return nil, err
	}
	return normalizeMap(m), nil
}

// marshal writes an answer's property map; m is normalized first.
func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(normalizeMap(m), wireOpts)
}

func normalizeMap(m resource.PropertyMap) resource.PropertyMap {
	out := make(resource.PropertyMap, len(m))
	for k, v := range m {
		out[k] = normalize(v)
	}
	return out
}

// normalize is the round trip through Pulumi SDK 3.224's property model that upstream applies to
// every value. Secretness and unknownness end up as flags on a value, so:
//
//	secret(secret(x))               -> secret(x)
//	computed(x), x not secret       -> computed("")     (the element is dropped)
//	secret(computed), computed(secret), unknown secret output
//	                                -> output{known: false, secret: true, element: null}
//	known output without dependencies -> the plain (or secret) element
//
// Outputs with dependencies keep them. The SDK this module builds with (3.259) turns an unknown
// secret into secret(computed) instead, so its conversion functions cannot be used here.
func normalize(v resource.PropertyValue) resource.PropertyValue {
	base, secret, computed, deps := flatten(v)
	switch {
	case len(deps) > 0 || (secret && computed):
		if computed {
			base = resource.NewNullProperty()
		}
		return resource.NewOutputProperty(resource.Output{Element: base, Known: !computed, Secret: secret, Dependencies: deps})
	case secret:
		return resource.MakeSecret(base)
	case computed:
		return resource.MakeComputed(resource.NewStringProperty(""))
	}
	return base
}

// flatten strips the secret/computed/output wrappers of v and normalizes what is inside.
func flatten(v resource.PropertyValue) (base resource.PropertyValue, secret, computed bool, deps []resource.URN) {
	switch {
	case v.IsSecret():
		base, _, computed, deps = flatten(v.SecretValue().Element)
		return base, true, computed, deps
	case v.IsComputed():
		e := v.Input().Element
		return resource.NewNullProperty(), e.IsSecret() || (e.IsOutput() && e.OutputValue().Secret), true, nil
	case v.IsOutput():
		o := v.OutputValue()
		if o.Known {
			base, secret, computed, _ = flatten(o.Element)
		} else {
			base, computed = resource.NewNullProperty(), true
		}
		return base, secret || o.Secret, computed, o.Dependencies
	case v.IsArray():
		arr := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			arr[i] = normalize(e)
		}
		return resource.NewArrayProperty(arr), false, false, nil
	case v.IsObject():
		return resource.NewObjectProperty(normalizeMap(v.ObjectValue())), false, false, nil
	}
	return v, false, false, nil
}

// isSecret and isComputed look at the outermost flags of a value, wrapped either way.
func isSecret(v resource.PropertyValue) bool {
	return v.IsSecret() || (v.IsOutput() && v.OutputValue().Secret)
}

func isComputed(v resource.PropertyValue) bool {
	return v.IsComputed() || (v.IsOutput() && !v.OutputValue().Known)
}

// peel returns the value inside all wrappers and its flags. An unknown's inside is its element:
// "" for a plain unknown, null for an unknown secret (in normal form).
func peel(v resource.PropertyValue) (inner resource.PropertyValue, secret, computed bool) {
	for {
		switch {
		case v.IsSecret():
			secret, v = true, v.SecretValue().Element
		case v.IsComputed():
			computed, v = true, v.Input().Element
		case v.IsOutput():
			o := v.OutputValue()
			secret, computed = secret || o.Secret, computed || !o.Known
			v = o.Element
		default:
			return v, secret, computed
		}
	}
}

// wrap puts flags back on a value (normalize then gives the canonical form).
func wrap(v resource.PropertyValue, secret, computed bool) resource.PropertyValue {
	switch {
	case secret && computed:
		return resource.NewOutputProperty(resource.Output{Element: v, Known: false, Secret: true})
	case secret:
		return resource.MakeSecret(v)
	case computed:
		return resource.MakeComputed(v)
	}
	return v
}
