package main

import (
	"fmt"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// --- reading property values, whether secret or not --------------------------------------------

func object(v resource.PropertyValue) (resource.PropertyMap, bool) {
	v, _, _ = peel(v)
	if v.IsObject() {
		return v.ObjectValue(), true
	}
	return nil, false
}

func asString(v resource.PropertyValue) (string, bool) {
	v, _, computed := peel(v)
	switch {
	case computed:
		return "", false
	case v.IsString():
		return v.StringValue(), true
	case v.IsNumber():
		return fmt.Sprint(v.NumberValue()), true
	case v.IsBool():
		return fmt.Sprint(v.BoolValue()), true
	}
	return "", false
}

func asBool(v resource.PropertyValue) (bool, bool) {
	v, _, _ = peel(v)
	if v.IsBool() {
		return v.BoolValue(), true
	}
	return false, false
}

func asNumber(v resource.PropertyValue) (float64, bool) {
	v, _, _ = peel(v)
	if v.IsNumber() {
		return v.NumberValue(), true
	}
	return 0, false
}

// str returns m[k] as a string; false when it is absent (or not a scalar).
func str(m resource.PropertyMap, k resource.PropertyKey) (string, bool) {
	if m == nil {
		return "", false
	}
	v, ok := m[k]
	if !ok || v.IsNull() {
		return "", false
	}
	return asString(v)
}

// lineLogger turns a byte stream into one status message per line, as upstream logs a command's
// output (the last line even without a newline).
type lineLogger struct {
	mu   sync.Mutex
	buf  []byte
	emit func(string)
}

func newLineLogger(emit func(string)) *lineLogger { return &lineLogger{emit: emit} }

func (l *lineLogger) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	for {
		i := strings.IndexByte(string(l.buf), '\n')
		if i < 0 {
			break
		}
		l.emit(strings.TrimSuffix(string(l.buf[:i]), "\r"))
		l.buf = l.buf[i+1:]
	}
	return len(p), nil
}

func (l *lineLogger) Flush() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buf) > 0 {
		l.emit(string(l.buf))
		l.buf = nil
	}
}
