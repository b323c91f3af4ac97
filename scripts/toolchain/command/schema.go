package main

import (
	"reflect"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"harbor-ha.local/toolchain/command/local"
	"harbor-ha.local/toolchain/command/remote"
)

// resourceType is what the generic Check/Diff/Create/Update code needs to know about a resource.
type resourceType struct {
	inputs reflect.Type // struct in package remote or local; see remote/inputs.go
	state  reflect.Type // what Update and Delete decode the state into (nil: not decoded)
	// hasUpdate is false for resources without an Update: every change replaces them.
	hasUpdate bool
	// outputs are the properties the provider computes, in addition to the inputs.
	outputs []resource.PropertyKey
	// namedID: the ID is the resource name followed by 8 hex digits, also in a preview; otherwise
	// it is 8 hex digits, and empty in a preview.
	namedID bool
	// check adds resource-specific failures after the inputs decoded (or failed to).
	check func(news resource.PropertyMap) []checkFailure
}

var resourceTypes = map[string]*resourceType{
	tokRemoteCommand: {
		inputs: reflect.TypeFor[remote.CommandInputs](), state: reflect.TypeFor[remote.CommandOutputs](),
		hasUpdate: true, outputs: []resource.PropertyKey{"stdout", "stderr"}, namedID: true,
	},
	tokCopyToRemote: {
		inputs: reflect.TypeFor[remote.CopyToRemoteInputs](), state: reflect.TypeFor[remote.CopyToRemoteOutputs](),
		hasUpdate: true, check: checkCopySource,
	},
	tokCopyFile: {inputs: reflect.TypeFor[remote.CopyFileInputs]()},
	tokLocalCommand: {
		inputs: reflect.TypeFor[local.CommandInputs](), state: reflect.TypeFor[local.CommandOutputs](),
		hasUpdate: true, outputs: []resource.PropertyKey{"stdout", "stderr"}, namedID: true,
	},
}

// field is one tagged field of an inputs struct.
type field struct {
	key      resource.PropertyKey
	typ      reflect.Type
	optional bool
	secret   bool
	replace  bool
}

func fields(t reflect.Type) []field {
	t = deref(t)
	var out []field
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("pulumi")
		if !ok && f.Anonymous { // an embedded struct (CommandOutputs embeds CommandInputs)
			out = append(out, fields(f.Type)...)
			continue
		}
		if !ok || tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		prov := f.Tag.Get("provider")
		out = append(out, field{
			key: resource.PropertyKey(name), typ: f.Type, optional: opts == "optional",
			secret: prov == "secret", replace: prov == "replaceOnChanges",
		})
	}
	return out
}

func fieldOf(t reflect.Type, k resource.PropertyKey) (field, bool) {
	for _, f := range fields(t) {
		if f.key == k {
			return f, true
		}
	}
	return field{}, false
}

// defaults returns the default values of a struct type's optional fields (those filled in by Check).
func defaults(t reflect.Type) map[string]any {
	if d, ok := reflect.Zero(deref(t)).Interface().(interface{ Defaults() map[string]any }); ok {
		return d.Defaults()
	}
	return nil
}

func deref(t reflect.Type) reflect.Type {
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

var assetOrArchive = reflect.TypeFor[remote.AssetOrArchive]()

func isInt(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return true
	}
	return false
}
