// pulumi-resource-command for harbor-ha: a resource provider that answers like @pulumi/command
// 1.2.1 for the resources this project uses, written for harbor-ha because the upstream provider
// module (github.com/pulumi/pulumi-command/provider) is not served by the Go module proxy that this
// project may build from. Its answers to Check, Diff and preview Create/Update are tested against
// answers recorded from upstream (testdata/, parity_test.go), so that a stack can move between
// the two without a change. See README.md next to this file.
package main

import (
	"context"
	"fmt"
	"os"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/provider"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
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
		return newServer(host), nil
	}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

type server struct {
	pulumirpc.UnimplementedResourceProviderServer
	host   *provider.HostClient // nil in tests: nothing is logged
	ctx    context.Context      // cancelled by Cancel
	cancel context.CancelFunc
	retry  retryPolicy

	mu sync.Mutex
	// sendsOldInputs: the engine sends old inputs to Diff (every engine since 3.89 says so in
	// Configure); otherwise Diff takes them from the state, as upstream does.
	sendsOldInputs bool
}

func newServer(host *provider.HostClient) *server {
	ctx, cancel := context.WithCancel(context.Background())
	return &server{host: host, ctx: ctx, cancel: cancel, retry: defaultRetry}
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

func (s *server) log(ctx context.Context, sev diag.Severity, urn resource.URN, msg string) {
	if s.host != nil {
		_ = s.host.Log(ctx, sev, urn, msg)
	}
}

func (s *server) status(ctx context.Context, urn resource.URN) func(string) {
	return func(msg string) {
		if s.host != nil {
			_ = s.host.LogStatus(ctx, diag.Info, urn, msg)
		}
	}
}

func resourceTypeOf(urn string) (*resourceType, string, error) {
	t := string(resource.URN(urn).Type())
	rt, ok := resourceTypes[t]
	if !ok {
		return nil, t, status.Errorf(codes.NotFound, "unknown resource type %q", t)
	}
	return rt, t, nil
}

func (s *server) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version}, nil
}

func (s *server) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":"command","version":%q}`, version)}, nil
}

func (s *server) GetMapping(context.Context, *pulumirpc.GetMappingRequest) (*pulumirpc.GetMappingResponse, error) {
	return &pulumirpc.GetMappingResponse{}, nil
}

// frameworkVersionKey is what pulumi-go-provider (which upstream is built on) adds to the
// provider's checked configuration; it is stored in the state, so it is added here too.
const frameworkVersionKey, frameworkVersion = "__pulumi-go-provider-version", "1.2.0"

func (s *server) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	news[frameworkVersionKey] = resource.NewStringProperty(frameworkVersion)
	inputs, err := marshal(news)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs}, nil
}

// DiffConfig is not implemented upstream either; the engine then compares the configuration itself.
func (s *server) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return nil, status.Error(codes.Unimplemented, "DiffConfig is not implemented")
}

func (s *server) Configure(_ context.Context, req *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	s.mu.Lock()
	s.sendsOldInputs = req.GetSendsOldInputs() && req.GetSendsOldInputsToDelete()
	s.mu.Unlock()
	return &pulumirpc.ConfigureResponse{
		AcceptSecrets: true, SupportsPreview: true, AcceptResources: true, AcceptOutputs: true,
	}, nil
}

func (s *server) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	s.cancel()
	return &emptypb.Empty{}, nil
}

func (s *server) Invoke(_ context.Context, req *pulumirpc.InvokeRequest) (*pulumirpc.InvokeResponse, error) {
	return nil, status.Errorf(codes.Unimplemented,
		"harbor-ha's command plugin does not implement the function %s", req.GetTok())
}

func (s *server) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	rt, _, err := resourceTypeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	out, failures, err := rt.checkInputs(news)
	if err != nil {
		return nil, err
	}
	inputs, err := marshal(out)
	if err != nil {
		return nil, err
	}
	res := &pulumirpc.CheckResponse{Inputs: inputs}
	for _, f := range failures {
		res.Failures = append(res.Failures, &pulumirpc.CheckFailure{Property: f.property, Reason: f.reason})
	}
	return res, nil
}

func (s *server) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	rt, _, err := resourceTypeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	state, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	oldInputs, err := unmarshal(req.GetOldInputs())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	sendsOldInputs := s.sendsOldInputs
	s.mu.Unlock()
	return rt.diffInputs(state, oldInputs, news, req.GetIgnoreChanges(), sendsOldInputs), nil
}

// Read (refresh, import) reports the recorded state: nothing here can be read back from a host.
func (s *server) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}
