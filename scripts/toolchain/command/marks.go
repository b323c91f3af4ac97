package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// markOutputs decides, like pulumi-go-provider 1.3.0, which outputs of a Create or Update are
// unknown (only in a preview) and which are secret.
//
// Unknown, in a preview: an output that is not equal to the input of the same name. In a Create
// that is every computed output (stdout, stderr), and also CopyToRemote's `source`, which upstream
// writes back as an object that never equals the asset it got. In an Update, such an output is
// unknown only if some input is unknown or differs from the old state; otherwise it keeps its value
// (e.g. the previous stdout).
//
// Secret: an output that is not equal to its input becomes secret if that input contains secrets.
func markOutputs(
	outs, inputs, olds resource.PropertyMap, inputKeys []resource.PropertyKey, isCreate, preview bool,
) {
	for k, prop := range outs {
		in, hasIn := inputs[k]
		same := hasIn && foldEquals(in, prop)
		if preview && !isComputed(prop) && !same {
			if isCreate || changedInputs(inputs, olds, inputKeys) {
				prop = makeComputed(prop)
			}
		}
		if !isSecret(prop) && !same && hasIn && in.ContainsSecrets() {
			prop = makeSecret(prop)
		}
		outs[k] = prop
	}
}

func changedInputs(inputs, olds resource.PropertyMap, keys []resource.PropertyKey) bool {
	for _, k := range keys {
		old, hasOld := olds[k]
		if isComputed(inputs[k]) || (hasOld && !foldEquals(inputs[k], old)) {
			return true
		}
	}
	return false
}

// foldEquals compares two values with secretness and unknownness as flags (however they are
// wrapped); assets by hash and contents; an asset never equals an object.
func foldEquals(a, b resource.PropertyValue) bool {
	ai, as, ac := peel(a)
	bi, bs, bc := peel(b)
	if as != bs || ac != bc {
		return false
	}
	switch {
	case ai.IsArray() && bi.IsArray():
		if len(ai.ArrayValue()) != len(bi.ArrayValue()) {
			return false
		}
		for i := range ai.ArrayValue() {
			if !foldEquals(ai.ArrayValue()[i], bi.ArrayValue()[i]) {
				return false
			}
		}
		return true
	case ai.IsObject() && bi.IsObject():
		ao, bo := ai.ObjectValue(), bi.ObjectValue()
		if len(ao) != len(bo) {
			return false
		}
		for k, v := range ao {
			w, ok := bo[k]
			if !ok || !foldEquals(v, w) {
				return false
			}
		}
		return true
	case ai.IsNull() && bi.IsNull():
		return true
	case ai.IsBool() && bi.IsBool():
		return ai.BoolValue() == bi.BoolValue()
	case ai.IsNumber() && bi.IsNumber():
		return ai.NumberValue() == bi.NumberValue()
	case ai.IsString() && bi.IsString():
		return ai.StringValue() == bi.StringValue()
	case ai.IsResourceReference() && bi.IsResourceReference():
		return deepEquals(ai, bi)
	case ai.IsAsset() && bi.IsAsset():
		return ai.AssetValue().Equals(bi.AssetValue())
	case ai.IsArchive() && bi.IsArchive():
		return ai.ArchiveValue().Equals(bi.ArchiveValue())
	}
	return false
}

func inputKeys(r *resourceType) []resource.PropertyKey {
	var keys []resource.PropertyKey
	for _, f := range fields(r.inputs) {
		keys = append(keys, f.key)
	}
	return keys
}
