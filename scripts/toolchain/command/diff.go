package main

import (
	"sort"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// diffInputs is Diff as @pulumi/command 1.2.1 answers it (pulumi-go-provider 1.3.0's default Diff):
//
//   - the old inputs are compared with the new ones (both as Check returned them), with the
//     property comparison of Pulumi SDK 3.224: a value that changes only in being secret is
//     changed; an unknown secret in the new inputs is never a change; secret values and assets
//     compare as a whole, plain objects and arrays element by element;
//   - detailedDiff has one entry per changed path ("triggers[0]", "environment.FOO", "connection"),
//     not marked as input diffs; diffs and replaces list the top-level properties;
//   - a path is a replacement only if it is exactly a property tagged provider:"replaceOnChanges"
//     (`triggers` added or removed as a whole), or the resource has no Update. A changed trigger
//     element is an update here: the npm SDK adds replaceOnChanges: ["triggers[*]"] and the engine
//     turns it into a replacement.
func (r *resourceType) diffInputs(
	state, oldInputs, news resource.PropertyMap, ignoreChanges []string, sendsOldInputs bool,
) *pulumirpc.DiffResponse {
	news = news.Copy()
	for _, k := range ignoreChanges { // top-level names only, as upstream looks them up
		if v, ok := state[resource.PropertyKey(k)]; ok {
			news[resource.PropertyKey(k)] = v
		}
	}
	for k := range news {
		if k == "version" || strings.HasPrefix(string(k), "__") {
			delete(news, k)
		}
	}
	if !sendsOldInputs { // an engine older than 3.89: the old inputs are taken from the state
		oldInputs = resource.PropertyMap{}
		for _, f := range fields(r.inputs) {
			oldInputs[f.key] = state[f.key]
		}
	}
	od := diffMaps(oldInputs, news)
	detailed := plugin.NewDetailedDiffFromObjectDiff(od, false)
	res := &pulumirpc.DiffResponse{
		Changes: pulumirpc.DiffResponse_DIFF_NONE, HasDetailedDiff: true,
		DetailedDiff: map[string]*pulumirpc.PropertyDiff{},
	}
	if od.AnyChanges() {
		res.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	diffs, replaces := map[string]bool{}, map[string]bool{}
	for path, d := range detailed {
		kind := d.Kind
		if r.replacesOn(path) {
			kind = kind.AsReplace()
		}
		res.DetailedDiff[path] = &pulumirpc.PropertyDiff{Kind: rpcKind(kind), InputDiff: d.InputDiff}
		head := path
		if pp, err := resource.ParsePropertyPath(path); err == nil && len(pp) > 0 {
			if s, ok := pp[0].(string); ok {
				head = s
			}
		}
		diffs[head] = true
		if kind.IsReplace() {
			replaces[head] = true
		}
	}
	res.Diffs, res.Replaces = sortedSet(diffs), sortedSet(replaces)
	return res
}

func (r *resourceType) replacesOn(path string) bool {
	if !r.hasUpdate {
		return true
	}
	f, ok := fieldOf(r.inputs, resource.PropertyKey(path))
	return ok && f.replace
}

func rpcKind(k plugin.DiffKind) pulumirpc.PropertyDiff_Kind {
	switch k {
	case plugin.DiffAddReplace:
		return pulumirpc.PropertyDiff_ADD_REPLACE
	case plugin.DiffDelete:
		return pulumirpc.PropertyDiff_DELETE
	case plugin.DiffDeleteReplace:
		return pulumirpc.PropertyDiff_DELETE_REPLACE
	case plugin.DiffUpdate:
		return pulumirpc.PropertyDiff_UPDATE
	case plugin.DiffUpdateReplace:
		return pulumirpc.PropertyDiff_UPDATE_REPLACE
	}
	return pulumirpc.PropertyDiff_ADD
}

func sortedSet(m map[string]bool) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// --- property comparison of Pulumi SDK 3.224 ------------------------------------------------------
// The SDK this module builds with (3.259) no longer ignores output values in the new map, and
// treats unknown outputs as having a value; upstream's answers depend on the old behaviour.

// hasValue: a null or an unknown output has no value.
func hasValue(v resource.PropertyValue) bool {
	if v.IsOutput() {
		return v.OutputValue().Known
	}
	return !v.IsNull()
}

// diffMaps returns nil when nothing changed.
func diffMaps(olds, news resource.PropertyMap) *resource.ObjectDiff {
	adds, deletes, sames := resource.PropertyMap{}, resource.PropertyMap{}, resource.PropertyMap{}
	updates := map[resource.PropertyKey]resource.ValueDiff{}
	for k, o := range olds {
		n, has := news[k]
		switch {
		case !has:
			if hasValue(o) {
				deletes[k] = o
			}
		case n.IsOutput(): // an output in the new inputs (an unknown secret) is never a change
			sames[k] = o
		default:
			if d := diffValues(o, n); d == nil {
				sames[k] = o
			} else if !hasValue(o) {
				adds[k] = n
			} else if !hasValue(n) {
				deletes[k] = o
			} else {
				updates[k] = *d
			}
		}
	}
	for k, n := range news {
		if _, has := olds[k]; !has && hasValue(n) {
			adds[k] = n
		}
	}
	if len(adds)+len(deletes)+len(updates) == 0 {
		return nil
	}
	return &resource.ObjectDiff{Adds: adds, Deletes: deletes, Sames: sames, Updates: updates}
}

func diffValues(o, n resource.PropertyValue) *resource.ValueDiff {
	switch {
	case o.IsArray() && n.IsArray():
		oa, na := o.ArrayValue(), n.ArrayValue()
		d := resource.ArrayDiff{
			Adds: map[int]resource.PropertyValue{}, Deletes: map[int]resource.PropertyValue{},
			Sames: map[int]resource.PropertyValue{}, Updates: map[int]resource.ValueDiff{},
		}
		for i := len(oa); i < len(na); i++ {
			d.Adds[i] = na[i]
		}
		for i := len(na); i < len(oa); i++ {
			d.Deletes[i] = oa[i]
		}
		for i := 0; i < len(oa) && i < len(na); i++ {
			if vd := diffValues(oa[i], na[i]); vd != nil {
				d.Updates[i] = *vd
			} else {
				d.Sames[i] = oa[i]
			}
		}
		if len(d.Adds)+len(d.Deletes)+len(d.Updates) == 0 {
			return nil
		}
		return &resource.ValueDiff{Old: o, New: n, Array: &d}
	case o.IsObject() && n.IsObject():
		if od := diffMaps(o.ObjectValue(), n.ObjectValue()); od != nil {
			return &resource.ValueDiff{Old: o, New: n, Object: od}
		}
		return nil
	case deepEquals(o, n):
		return nil
	}
	return &resource.ValueDiff{Old: o, New: n}
}

func deepEqualsMaps(a, b resource.PropertyMap) bool {
	for k, v := range a {
		if w, has := b[k]; has {
			if !deepEquals(v, w) {
				return false
			}
		} else if hasValue(v) {
			return false
		}
	}
	for k, w := range b {
		if _, has := a[k]; !has && hasValue(w) {
			return false
		}
	}
	return true
}

func deepEquals(a, b resource.PropertyValue) bool {
	switch {
	case a.IsArray():
		if !b.IsArray() || len(a.ArrayValue()) != len(b.ArrayValue()) {
			return false
		}
		for i, e := range a.ArrayValue() {
			if !deepEquals(e, b.ArrayValue()[i]) {
				return false
			}
		}
		return true
	case a.IsAsset():
		return b.IsAsset() && a.AssetValue().Equals(b.AssetValue())
	case a.IsArchive():
		return b.IsArchive() && a.ArchiveValue().Equals(b.ArchiveValue())
	case a.IsObject():
		return b.IsObject() && deepEqualsMaps(a.ObjectValue(), b.ObjectValue())
	case a.IsSecret():
		return b.IsSecret() && deepEquals(a.SecretValue().Element, b.SecretValue().Element)
	case a.IsResourceReference():
		if !b.IsResourceReference() {
			return false
		}
		ar, br := a.ResourceReferenceValue(), b.ResourceReferenceValue()
		if ar.URN != br.URN {
			return false
		}
		if ar.ID.IsComputed() && br.ID.IsComputed() {
			return true
		}
		return deepEquals(ar.ID, br.ID)
	case a.IsOutput():
		if !b.IsOutput() {
			return false
		}
		ao, bo := a.OutputValue(), b.OutputValue()
		if ao.Known != bo.Known || ao.Secret != bo.Secret || len(ao.Dependencies) != len(bo.Dependencies) {
			return false
		}
		for i, d := range ao.Dependencies {
			if d != bo.Dependencies[i] {
				return false
			}
		}
		return deepEquals(ao.Element, bo.Element)
	case a.IsComputed():
		return b.IsComputed() && deepEquals(a.Input().Element, b.Input().Element)
	}
	return a.V == b.V
}
