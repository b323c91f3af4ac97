// pulumi-resource-command for harbor-ha: a resource provider that speaks the protocol of
// @pulumi/command 1.2.1 for the resources this project uses, written for harbor-ha because the
// upstream provider module (github.com/pulumi/pulumi-command/provider) is not served by the Go
// module proxy that this project may build from. See README.md next to this file for what it
// implements and where it differs.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"
)

// version is stamped at link time (-X main.version=...) with the @pulumi/command version.
var version = "0.0.0-dev"

const (
	tokRemoteCommand = "command:remote:Command"
	tokCopyToRemote  = "command:remote:CopyToRemote"
	tokCopyFile      = "command:remote:CopyFile"
	tokLocalCommand  = "command:local:Command"
)

func main() {
	if err := provider.Main("command", func(host *provider.HostClient) (pulumirpc.ResourceProviderServer, error) {
		ctx, cancel := context.WithCancel(context.Background())
		return &server{host: host, ctx: ctx, cancel: cancel}, nil
	}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type server struct {
	pulumirpc.UnimplementedResourceProviderServer
	host   *provider.HostClient
	ctx    context.Context // cancelled by Cancel
	cancel context.CancelFunc
	mu     sync.Mutex
}

// runContext is the request's context, also cancelled when the engine calls Cancel.
func (s *server) runContext(req context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(req)
	go func() {
		select {
		case <-s.ctx.Done():
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

var unmarshalOpts = plugin.MarshalOptions{
	KeepUnknowns: true, KeepSecrets: true, KeepResources: true, SkipNulls: true, ComputeAssetHashes: true,
}

var marshalOpts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, KeepResources: true, SkipNulls: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, unmarshalOpts)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) {
	return plugin.MarshalProperties(m, marshalOpts)
}

func typeOf(urn string) string { return string(resource.URN(urn).Type()) }

func (s *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (s *server) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":"command","version":%q}`, version)}, nil
}

func (s *server) GetMapping(context.Context, *pulumirpc.GetMappingRequest) (*pulumirpc.GetMappingResponse, error) {
	return &pulumirpc.GetMappingResponse{}, nil
}

func (s *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (s *server) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (s *server) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true, AcceptResources: true}, nil
}

func (s *server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	s.cancel()
	return &emptypb.Empty{}, nil
}

func (s *server) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	return nil, status.Errorf(codes.Unimplemented,
		"harbor-ha's command plugin does not implement the function %s", req.GetTok())
}

// Check validates inputs and returns them unchanged (assets get their hashes, so that a changed
// file shows up as a change).
func (s *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	fail := func(prop, reason string) {
		failures = append(failures, &pulumirpc.CheckFailure{Property: prop, Reason: reason})
	}
	requireConnection := func() {
		c, ok := news["connection"]
		if !ok || c.IsNull() {
			fail("connection", "missing required property 'connection'")
			return
		}
		if m, ok := object(c); ok {
			if h, ok := m["host"]; !ok || h.IsNull() {
				fail("connection.host", "missing required property 'host'")
			}
		}
	}
	switch t := typeOf(req.GetUrn()); t {
	case tokRemoteCommand:
		requireConnection()
	case tokCopyToRemote:
		requireConnection()
		if v, ok := news["remotePath"]; !ok || v.IsNull() {
			fail("remotePath", "missing required property 'remotePath'")
		}
		src, ok := news["source"]
		switch {
		case !ok || src.IsNull():
			fail("source", "missing required property 'source'")
		case src.IsComputed() || src.IsOutput():
		case src.IsAsset():
			if a := src.AssetValue(); !a.IsPath() && !a.IsText() {
				fail("source", "asset must be a path-based file asset or a text asset")
			}
		case src.IsArchive():
			if !src.ArchiveValue().IsPath() {
				fail("source", "archive must be a path to a file or directory")
			}
		default:
			fail("source", "source must be an asset or an archive")
		}
	case tokCopyFile:
		requireConnection()
		for _, k := range []resource.PropertyKey{"localPath", "remotePath"} {
			if v, ok := news[k]; !ok || v.IsNull() {
				fail(string(k), fmt.Sprintf("missing required property '%s'", k))
			}
		}
	case tokLocalCommand:
		for _, k := range []resource.PropertyKey{"assetPaths", "archivePaths"} {
			if v, ok := news[k]; ok && !v.IsNull() {
				fail(string(k), fmt.Sprintf("'%s' is not supported by harbor-ha's command plugin", k))
			}
		}
	default:
		return nil, fmt.Errorf("unknown resource type %q", t)
	}
	inputs, err := marshal(news)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: failures}, nil
}

// outputKeys are the properties the provider computes; they are not inputs.
var outputKeys = map[resource.PropertyKey]bool{"stdout": true, "stderr": true}

// Diff: a change to `triggers` replaces the resource; any other input change is an update.
func (s *server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	olds, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	if len(olds) == 0 { // old state without recorded inputs: compare with the outputs
		if olds, err = unmarshal(req.GetOlds()); err != nil {
			return nil, err
		}
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	keys := map[resource.PropertyKey]bool{}
	for k := range olds {
		keys[k] = true
	}
	for k := range news {
		keys[k] = true
	}
	var changed, replaces []string
	detailed := map[string]*pulumirpc.PropertyDiff{}
	for k := range keys {
		if outputKeys[k] || k == "__defaults" {
			continue
		}
		o, n := olds[k], news[k]
		if plain(o).DeepEquals(plain(n)) && !n.ContainsUnknowns() {
			continue
		}
		kind := pulumirpc.PropertyDiff_UPDATE
		switch {
		case o.IsNull() || o.V == nil:
			kind = pulumirpc.PropertyDiff_ADD
		case n.IsNull() || n.V == nil:
			kind = pulumirpc.PropertyDiff_DELETE
		}
		if k == "triggers" {
			replaces = append(replaces, string(k))
			kind += pulumirpc.PropertyDiff_ADD_REPLACE - pulumirpc.PropertyDiff_ADD
		}
		changed = append(changed, string(k))
		detailed[string(k)] = &pulumirpc.PropertyDiff{Kind: kind, InputDiff: true}
	}
	sort.Strings(changed)
	sort.Strings(replaces)
	res := &pulumirpc.DiffResponse{
		Changes: pulumirpc.DiffResponse_DIFF_NONE, Diffs: changed, Replaces: replaces,
		DetailedDiff: detailed, HasDetailedDiff: true,
	}
	if len(changed) > 0 {
		res.Changes = pulumirpc.DiffResponse_DIFF_SOME
	}
	return res, nil
}

func (s *server) Create(reqCtx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	inputs, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	urn := resource.URN(req.GetUrn())
	id, err := resource.NewUniqueHex(urn.Name()+"-", 8, 0)
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.runContext(reqCtx)
	defer cancel()
	outs, err := s.apply(ctx, urn, "create", inputs, nil, req.GetPreview())
	if err != nil {
		return nil, err
	}
	if req.GetPreview() {
		id = ""
	}
	props, err := marshal(outs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

func (s *server) Update(reqCtx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	ctx, cancel := s.runContext(reqCtx)
	defer cancel()
	outs, err := s.apply(ctx, resource.URN(req.GetUrn()), "update", news, olds, req.GetPreview())
	if err != nil {
		return nil, err
	}
	props, err := marshal(outs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

func (s *server) Delete(reqCtx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	state, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	urn := resource.URN(req.GetUrn())
	ctx, cancel := s.runContext(reqCtx)
	defer cancel()
	switch t := typeOf(req.GetUrn()); t {
	case tokRemoteCommand, tokLocalCommand:
		if cmd, ok := str(state, "delete"); ok && cmd != "" {
			if _, _, err := s.runCommand(ctx, urn, t, state, cmd, state); err != nil {
				return nil, err
			}
		}
	}
	return &emptypb.Empty{}, nil
}

// Read (refresh, import) reports the recorded state: nothing here can be read back from a host.
func (s *server) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

// apply runs what a create or update of the resource does and returns its new outputs.
func (s *server) apply(
	ctx context.Context, urn resource.URN, op string, inputs, olds resource.PropertyMap, preview bool,
) (resource.PropertyMap, error) {
	t := string(urn.Type())
	outs := inputs.Copy()
	if c, ok := outs["connection"]; ok && !c.IsSecret() && !c.IsComputed() {
		outs["connection"] = resource.MakeSecret(c)
	}
	switch t {
	case tokRemoteCommand, tokLocalCommand:
		var cmd string
		if op == "update" {
			cmd, _ = str(inputs, "update")
		}
		if cmd == "" {
			cmd, _ = str(inputs, "create")
		}
		if preview {
			outs["stdout"] = resource.MakeComputed(resource.NewStringProperty(""))
			outs["stderr"] = resource.MakeComputed(resource.NewStringProperty(""))
			return outs, nil
		}
		stdout, stderr := "", ""
		if olds != nil {
			stdout, _ = str(olds, "stdout")
			stderr, _ = str(olds, "stderr")
		}
		if cmd != "" {
			var err error
			if stdout, stderr, err = s.runCommand(ctx, urn, t, inputs, cmd, olds); err != nil {
				return nil, err
			}
		}
		outs["stdout"] = resource.NewStringProperty(stdout)
		outs["stderr"] = resource.NewStringProperty(stderr)
		return outs, nil
	case tokCopyToRemote, tokCopyFile:
		if preview {
			return outs, nil
		}
		if op == "update" && !copyNeeded(t, inputs, olds) {
			return outs, nil
		}
		return outs, s.copyToRemote(ctx, urn, t, inputs)
	}
	return nil, fmt.Errorf("unknown resource type %q", t)
}

func copyNeeded(t string, news, olds resource.PropertyMap) bool {
	keys := []resource.PropertyKey{"source", "remotePath"}
	if t == tokCopyFile {
		keys = []resource.PropertyKey{"localPath", "remotePath"}
	}
	for _, k := range keys {
		if !plain(news[k]).DeepEquals(plain(olds[k])) {
			return true
		}
	}
	return false
}

// runCommand runs cmd for a remote or local Command with the resource's settings; prev holds
// the previous outputs (stdout, stderr) offered to the command as PULUMI_COMMAND_STDOUT/STDERR.
func (s *server) runCommand(
	ctx context.Context, urn resource.URN, t string, props resource.PropertyMap, cmd string, prev resource.PropertyMap,
) (string, string, error) {
	env := map[string]string{}
	if m, ok := object(props["environment"]); ok {
		for k, v := range m {
			if sv, ok := asString(v); ok {
				env[string(k)] = sv
			}
		}
	}
	var prevEnv map[string]string
	if b, ok := asBool(props["addPreviousOutputInEnv"]); !ok || b {
		prevEnv = map[string]string{}
		if v, _ := str(prev, "stdout"); v != "" {
			prevEnv["PULUMI_COMMAND_STDOUT"] = v
		}
		if v, _ := str(prev, "stderr"); v != "" {
			prevEnv["PULUMI_COMMAND_STDERR"] = v
		}
	}
	stdin, _ := str(props, "stdin")
	logging, _ := str(props, "logging")
	logOut := logging == "" || logging == "stdout" || logging == "stdoutAndStderr"
	logErr := logging == "" || logging == "stderr" || logging == "stdoutAndStderr"
	lw := newLineLogger(func(line string) {
		_ = s.host.LogStatus(ctx, diag.Info, urn, line)
	})

	var res runResult
	var err error
	if t == tokLocalCommand {
		res, err = runLocal(ctx, props, cmd, env, prevEnv, stdin, lw, logOut, logErr)
	} else {
		var conn *connection
		if conn, err = parseConnection(props["connection"]); err != nil {
			return "", "", err
		}
		warn := func(msg string) { _ = s.host.Log(ctx, diag.Warning, urn, msg) }
		res, err = runRemote(ctx, conn, cmd, env, prevEnv, stdin, lw, logOut, logErr, warn)
	}
	lw.Flush()
	if err != nil {
		what := fmt.Sprintf("%q", cmd)
		if v := props["create"]; v.ContainsSecrets() || props["update"].ContainsSecrets() || props["delete"].ContainsSecrets() {
			what = "[secret command]"
		}
		if res.combined != "" {
			return "", "", fmt.Errorf("%w: running %s:\n%s", err, what, res.combined)
		}
		return "", "", fmt.Errorf("%w: running %s", err, what)
	}
	return strings.TrimSuffix(res.stdout, "\n"), strings.TrimSuffix(res.stderr, "\n"), nil
}

type runResult struct{ stdout, stderr, combined string }

// --- property helpers ---------------------------------------------------------------------------

// plain strips secret markers, so that making a value secret is not by itself a change.
func plain(v resource.PropertyValue) resource.PropertyValue {
	switch {
	case v.IsSecret():
		return plain(v.SecretValue().Element)
	case v.IsArray():
		out := make([]resource.PropertyValue, len(v.ArrayValue()))
		for i, e := range v.ArrayValue() {
			out[i] = plain(e)
		}
		return resource.NewArrayProperty(out)
	case v.IsObject():
		out := resource.PropertyMap{}
		for k, e := range v.ObjectValue() {
			out[k] = plain(e)
		}
		return resource.NewObjectProperty(out)
	}
	return v
}

func object(v resource.PropertyValue) (resource.PropertyMap, bool) {
	v = plainTop(v)
	if v.IsObject() {
		return v.ObjectValue(), true
	}
	return nil, false
}

func plainTop(v resource.PropertyValue) resource.PropertyValue {
	for v.IsSecret() {
		v = v.SecretValue().Element
	}
	return v
}

func asString(v resource.PropertyValue) (string, bool) {
	v = plainTop(v)
	switch {
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
	v = plainTop(v)
	if v.IsBool() {
		return v.BoolValue(), true
	}
	return false, false
}

func asNumber(v resource.PropertyValue) (float64, bool) {
	v = plainTop(v)
	if v.IsNumber() {
		return v.NumberValue(), true
	}
	return 0, false
}

func str(m resource.PropertyMap, k resource.PropertyKey) (string, bool) {
	if m == nil {
		return "", false
	}
	v, ok := m[k]
	if !ok {
		return "", false
	}
	return asString(v)
}

// lineLogger turns a byte stream into one status message per line.
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
		l.emit(string(l.buf[:i]))
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

var errNoHost = errors.New("connection.host is required")
