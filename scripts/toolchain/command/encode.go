package main

import (
	"reflect"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/archive"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/asset"
)

// encodeOpts: how inputs are written back after decoding (upstream decodes them into its Go types
// and encodes those again, restoring secret and unknown marks where they were).
type encodeOpts struct {
	defaults     bool // fill in the defaults of absent optional fields (Check)
	keepUnknowns bool // false in a Create/Update that is not a preview: unknown marks are dropped
	partial      bool // the decode failed: see resourceType.checkInputs
}

func encodeInputs(
	m resource.PropertyMap, t reflect.Type, o encodeOpts, bad map[resource.PropertyKey]bool,
) resource.PropertyMap {
	out := resource.PropertyMap{}
	t = deref(t)
	for _, f := range fields(t) {
		v, ok := m[f.key]
		nilable := f.typ.Kind() == reflect.Pointer || f.typ.Kind() == reflect.Map || f.typ.Kind() == reflect.Slice
		switch {
		case ok && !bad[f.key]:
			out[f.key] = encodeValue(v, f.typ, o)
		case ok:
			// Failed to decode: the mapper had already allocated the field, so it is encoded as
			// the zero value of its type (an object for a struct), still secret if it was.
			if z, has := zeroEncoded(f.typ); has {
				out[f.key] = wrap(z, isSecret(v), false)
			}
		case nilable:
			if d, has := defaults(t)[string(f.key)]; has && o.defaults {
				out[f.key] = resource.NewPropertyValue(d)
			}
		default:
			// A missing value field (only when decoding failed): its zero value is encoded.
			out[f.key], _ = zeroEncoded(f.typ)
		}
	}
	if !o.partial {
		// Properties the type does not know cannot decode; they only get here in a Create or
		// Update of a state that did not come from Check, and are kept.
		for k, v := range m {
			if _, known := fieldOf(t, k); !known {
				out[k] = v
			}
		}
	}
	return out
}

// encodeValue re-encodes one value of type t (nil: no type known), keeping its secret and
// unknown marks. An unknown becomes the aligned value of its type, marked unknown.
func encodeValue(v resource.PropertyValue, t reflect.Type, o encodeOpts) resource.PropertyValue {
	inner, secret, computed := peel(v)
	var content resource.PropertyValue
	if computed {
		content = aligned(t, v)
		if o.defaults && deref(t) != nil && deref(t).Kind() == reflect.Struct {
			content = encodeValue(content, t, o)
		}
	} else {
		content = encodeContent(inner, deref(t), o)
	}
	return wrap(content, secret, computed && o.keepUnknowns)
}

func encodeContent(v resource.PropertyValue, t reflect.Type, o encodeOpts) resource.PropertyValue {
	switch {
	case t == assetOrArchive:
		return assetObject(v)
	case t == nil || t.Kind() == reflect.Interface:
		return encodeUntyped(v)
	case t.Kind() == reflect.Struct && v.IsObject():
		return resource.NewObjectProperty(encodeInputs(v.ObjectValue(), t, encodeOpts{
			defaults: o.defaults, keepUnknowns: o.keepUnknowns,
		}, nil))
	case (t.Kind() == reflect.Map) && v.IsObject():
		out := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			out[k] = encodeValue(e, t.Elem(), o)
		}
		return resource.NewObjectProperty(out)
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && v.IsArray():
		out := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			out[i] = encodeValue(e, t.Elem(), o)
		}
		return resource.NewArrayProperty(out)
	case isInt(t) && v.IsNumber():
		// Decoded into an int: a fraction is dropped.
		return resource.NewNumberProperty(float64(int64(v.NumberValue())))
	}
	return v
}

// encodeUntyped re-encodes a value held in an `any`: its marks stay where they are.
func encodeUntyped(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsArray():
		out := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			out[i] = encodeValue(e, nil, encodeOpts{keepUnknowns: true})
		}
		return resource.NewArrayProperty(out)
	case v.IsObject():
		out := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			out[k] = encodeValue(e, nil, encodeOpts{keepUnknowns: true})
		}
		return resource.NewObjectProperty(out)
	}
	return v
}

// zeroEncoded is how the zero value of t is encoded; false for slices and maps (left out).
func zeroEncoded(t reflect.Type) (resource.PropertyValue, bool) {
	switch t = deref(t); t.Kind() {
	case reflect.Struct:
		return resource.NewObjectProperty(resource.PropertyMap{}), true
	case reflect.String:
		return resource.NewStringProperty(""), true
	case reflect.Bool:
		return resource.NewBoolProperty(false), true
	case reflect.Slice, reflect.Map, reflect.Interface:
		return resource.PropertyValue{}, false
	}
	return resource.NewNumberProperty(0), true
}

// assetObject is how upstream writes an asset or archive input back: an object with the asset's
// (or archive's) signature and all of its fields, empty ones included. Anything else becomes {}.
// On the wire this is the same as an asset except for the empty fields.
func assetObject(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsAsset():
		a := v.AssetValue()
		return resource.NewObjectProperty(resource.PropertyMap{
			resource.SigKey: resource.NewStringProperty(asset.AssetSig), "hash": resource.NewStringProperty(a.Hash),
			"text": resource.NewStringProperty(a.Text), "path": resource.NewStringProperty(a.Path),
			"uri": resource.NewStringProperty(a.URI),
		})
	case v.IsArchive():
		a := v.ArchiveValue()
		obj := resource.PropertyMap{
			resource.SigKey: resource.NewStringProperty(archive.ArchiveSig), "hash": resource.NewStringProperty(a.Hash),
			"path": resource.NewStringProperty(a.Path), "uri": resource.NewStringProperty(a.URI),
		}
		obj["assets"] = resource.NewObjectProperty(resource.PropertyMap{})
		if a.Assets != nil {
			obj["assets"] = resource.NewPropertyValue(a.Serialize()["assets"])
		}
		return resource.NewObjectProperty(obj)
	}
	return resource.NewObjectProperty(resource.PropertyMap{})
}

// secretsWalkMap is the last step of upstream's Check: every input tagged provider:"secret" is made
// secret, at any depth of the typed structure.
//
// It also keeps a quirk of upstream, so that answers are identical: a value that is both secret and
// unknown at a typed position comes back as a known secret (of the value an unknown decodes to,
// e.g. ""). The Node.js SDK never sends such values (an unknown secret is sent as a plain unknown).
func secretsWalkMap(m resource.PropertyMap, t reflect.Type) resource.PropertyMap {
	v := secretsWalk(resource.NewObjectProperty(m), t)
	return v.ObjectValue()
}

func secretsWalk(p resource.PropertyValue, t reflect.Type) resource.PropertyValue {
	if t == nil {
		return p
	}
	secret, computed := isSecret(p), false
	if secret {
		p = makePublic(p)
	}
	if computed = isComputed(p); computed {
		p = makeKnown(p)
	}
	t = deref(t)
	switch {
	case t.Kind() == reflect.Struct && p.IsObject():
		obj := p.ObjectValue().Copy()
		for _, f := range fields(t) {
			if v, ok := obj[f.key]; ok {
				v = secretsWalk(v, f.typ)
				if f.secret {
					v = makeSecret(v)
				}
				obj[f.key] = v
			}
		}
		p = resource.NewObjectProperty(obj)
	case (t.Kind() == reflect.Slice || t.Kind() == reflect.Array) && p.IsArray():
		arr := make([]resource.PropertyValue, len(p.ArrayValue()))
		for i, e := range p.ArrayValue() {
			arr[i] = secretsWalk(e, t.Elem())
		}
		p = resource.NewArrayProperty(arr)
	case t.Kind() == reflect.Map && p.IsObject():
		obj := resource.PropertyMap{}
		for k, e := range p.ObjectValue() {
			obj[k] = secretsWalk(e, t.Elem())
		}
		p = resource.NewObjectProperty(obj)
	}
	switch {
	case secret: // wins over computed: the quirk described above
		return makeSecret(p)
	case computed:
		return makeComputed(p)
	}
	return p
}

// makeSecret, makeComputed, makePublic and makeKnown add or remove one flag of a value, whichever
// way it is wrapped (secret, computed or output), as pulumi-go-provider does.
func makeSecret(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsComputed():
		return resource.NewOutputProperty(resource.Output{Element: v.Input().Element, Secret: true})
	case v.IsOutput():
		o := v.OutputValue()
		o.Secret = true
		return resource.NewOutputProperty(o)
	case v.IsSecret():
		return v
	}
	return resource.MakeSecret(v)
}

func makeComputed(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsOutput():
		o := v.OutputValue()
		o.Known = false
		return resource.NewOutputProperty(o)
	case v.IsSecret():
		return resource.NewOutputProperty(resource.Output{Element: v.SecretValue().Element, Secret: true})
	case v.IsComputed():
		return v
	}
	return resource.MakeComputed(v)
}

func makePublic(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsOutput():
		o := v.OutputValue()
		o.Secret = false
		if o.Known {
			return o.Element
		}
		return resource.NewOutputProperty(o)
	case v.IsSecret():
		return v.SecretValue().Element
	}
	return v
}

func makeKnown(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsOutput():
		o := v.OutputValue()
		o.Known = true
		if !o.Secret {
			return o.Element
		}
		return resource.NewOutputProperty(o)
	case v.IsComputed():
		return v.Input().Element
	}
	return v
}
