package main

import (
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/mapper"
)

type checkFailure struct{ property, reason string }

// check is Check for one resource: the inputs as they are stored in the state, and the failures.
//
// Like @pulumi/command 1.2.1 it decodes the inputs into the Go type with the SDK's mapper (so the
// failure messages are the mapper's), fills in defaults (connection: user root, port 22,
// dialErrorLimit 10, perDialTimeout 15), and returns every input tagged provider:"secret" as a
// secret: `connection` as a whole and, inside it, password, privateKey and privateKeyPassword.
// When decoding fails, the inputs come back unchanged except for those secrets.
func (r *resourceType) checkInputs(news resource.PropertyMap) (resource.PropertyMap, []checkFailure, error) {
	failures, bad, err := validate(news, r.inputs)
	if err != nil {
		return nil, nil, err
	}
	var out resource.PropertyMap
	switch {
	case len(failures) == 0:
		out = encodeInputs(news, r.inputs, encodeOpts{defaults: true, keepUnknowns: true}, nil)
	case r.check != nil:
		// A resource with its own check (CopyToRemote) returns what could be decoded, re-encoded:
		// fields that failed or are missing are left out, or zero when they are not pointers, and
		// unknown properties are dropped.
		out = encodeInputs(news, r.inputs, encodeOpts{keepUnknowns: true, partial: true}, bad)
	default:
		out = news.Copy()
	}
	if r.check != nil {
		failures = append(failures, r.check(news)...)
	}
	return secretsWalkMap(out, r.inputs), failures, nil
}

// validate decodes news into a value of type t with the SDK's mapper, as upstream does, and
// returns the failures and the top-level properties that failed.
func validate(news resource.PropertyMap, t reflect.Type) ([]checkFailure, map[resource.PropertyKey]bool, error) {
	merr := decode(news, t)
	if merr == nil {
		return nil, nil, nil
	}
	var failures []checkFailure
	bad := map[resource.PropertyKey]bool{}
	for _, f := range merr.Failures() {
		var fe mapper.FieldError
		if !errors.As(f, &fe) {
			return nil, nil, fmt.Errorf("unknown mapper error: %w", f)
		}
		failures = append(failures, checkFailure{property: fe.Field(), reason: fe.Reason()})
		head, _, _ := strings.Cut(fe.Field(), "[")
		bad[resource.PropertyKey(head)] = true
	}
	return failures, bad, nil
}

// decode runs the mapper over m's skeleton with a value of type t as the target.
func decode(m resource.PropertyMap, t reflect.Type) mapper.MappingError {
	return mapper.New(nil).Decode(skeletonMap(m, t), reflect.New(t).Interface())
}

// skeletonMap is what upstream hands to the mapper: secrets unwrapped, unknowns replaced by a value
// of the property's type (so that they always decode), assets and archives by an empty object.
func skeletonMap(m resource.PropertyMap, t reflect.Type) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		var ft reflect.Type
		if f, ok := fieldOf(t, k); ok {
			ft = f.typ
		}
		out[string(k)] = skeleton(v, ft)
	}
	return out
}

func skeleton(v resource.PropertyValue, t reflect.Type) any {
	inner, _, computed := peel(v)
	t = deref(t)
	if computed {
		return aligned(t, v).Mappable()
	}
	switch {
	case t == assetOrArchive:
		return map[string]any{}
	case inner.IsArray():
		var et reflect.Type
		if t != nil && (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) {
			et = t.Elem()
		}
		arr := make([]any, len(inner.ArrayValue()))
		for i, e := range inner.ArrayValue() {
			arr[i] = skeleton(e, et)
		}
		return arr
	case inner.IsObject():
		if t != nil && t.Kind() == reflect.Struct {
			return skeletonMap(inner.ObjectValue(), t)
		}
		var et reflect.Type
		if t != nil && t.Kind() == reflect.Map {
			et = t.Elem()
		}
		obj := map[string]any{}
		for k, e := range inner.ObjectValue() {
			obj[string(k)] = skeleton(e, et)
		}
		return obj
	}
	return inner.Mappable()
}

// aligned is the value upstream substitutes for an unknown of type t: the zero value, an object
// with the required fields for a struct. v is the unknown itself (its element is kept where the
// type is not known).
func aligned(t reflect.Type, v resource.PropertyValue) resource.PropertyValue {
	t = deref(t)
	if t == nil || t.Kind() == reflect.Interface {
		if v.IsComputed() {
			return v.Input().Element
		}
		return resource.NewNullProperty()
	}
	switch t.Kind() {
	case reflect.Struct:
		obj := resource.PropertyMap{}
		if t != assetOrArchive {
			for _, f := range fields(t) {
				if !f.optional {
					obj[f.key] = aligned(f.typ, resource.NewNullProperty())
				}
			}
		}
		return resource.NewObjectProperty(obj)
	case reflect.Map:
		return resource.NewObjectProperty(resource.PropertyMap{})
	case reflect.Slice, reflect.Array:
		return resource.NewArrayProperty([]resource.PropertyValue{})
	case reflect.String:
		return resource.NewStringProperty("")
	case reflect.Bool:
		return resource.NewBoolProperty(false)
	}
	return resource.NewNumberProperty(0)
}

// checkCopySource is CopyToRemote's own check of `source` (upstream's messages and property names).
func checkCopySource(news resource.PropertyMap) []checkFailure {
	src, _, computed := peel(news["source"])
	hasAsset := !computed && src.IsAsset()
	hasArchive := !computed && src.IsArchive()
	var failures []checkFailure
	if !hasAsset && !hasArchive {
		// An unknown source (a preview) fails too: upstream 1.2.1 does that (fixed after 1.2.1).
		failures = append(failures, checkFailure{"asset", "either asset or archive must be set"})
	}
	if hasAsset && !src.AssetValue().IsPath() && !src.AssetValue().IsText() {
		failures = append(failures, checkFailure{"asset", "asset must be a path-based file asset or a text asset"})
	}
	if hasArchive && !src.ArchiveValue().IsPath() {
		failures = append(failures, checkFailure{"archive", "archive must be a path to a file or directory"})
	}
	return failures
}
