// pulumi-language-nodejs for harbor-ha. It starts the Node.js language host built from sdk/v3 v3.68.0
// (pulumi-language-nodejs-v3.68.0, next to this binary or on PATH) and forwards every LanguageRuntime
// call to it unchanged, except RunPlugin: that host predates it, and the CLI uses it to start
// policy packs (`pulumi preview --policy-pack DIR`). RunPlugin is implemented here for policy packs
// the way the old `pulumi-analyzer-policy` script did it: node @pulumi/pulumi/cmd/run-policy-pack.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

const backendName = "pulumi-language-nodejs-v3.68.0"

const maxMsg = 400 * 1024 * 1024

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "pulumi-language-nodejs: %v\n", err)
		os.Exit(1)
	}
}

func findBackend() (string, error) {
	if self, err := os.Executable(); err == nil {
		p := filepath.Join(filepath.Dir(self), backendName)
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return exec.LookPath(backendName)
}

func run() error {
	backend, err := findBackend()
	if err != nil {
		return fmt.Errorf("cannot find %s: %w", backendName, err)
	}
	// The engine passes its address (and possibly flags); the backend takes the same arguments.
	child := exec.Command(backend, os.Args[1:]...)
	child.Stderr = os.Stderr
	out, err := child.StdoutPipe()
	if err != nil {
		return err
	}
	if err := child.Start(); err != nil {
		return err
	}
	defer func() { _ = child.Process.Kill() }()
	r := bufio.NewReader(out)
	line, err := r.ReadString('\n')
	if err != nil {
		return fmt.Errorf("reading the port of %s: %w", backend, err)
	}
	go func() { _, _ = io.Copy(os.Stderr, r) }()
	port := strings.TrimSpace(line)

	encoding.RegisterCodec(frameCodec{})
	conn, err := grpc.NewClient("127.0.0.1:"+port,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsg), grpc.MaxCallSendMsgSize(maxMsg)))
	if err != nil {
		return err
	}
	defer conn.Close()

	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(forward(conn)),
		grpc.MaxRecvMsgSize(maxMsg), grpc.MaxSendMsgSize(maxMsg))
	srv.RegisterService(&runPluginOnly, &host{})
	fmt.Printf("%d\n", lis.Addr().(*net.TCPAddr).Port)

	done := make(chan error, 1)
	go func() { done <- child.Wait() }()
	go func() {
		<-done // the backend exited: stop serving
		srv.Stop()
	}()
	return srv.Serve(lis)
}

// runPluginOnly is the LanguageRuntime service with only RunPlugin; every other method is unknown
// to this server and goes to forward.
var runPluginOnly = func() grpc.ServiceDesc {
	d := pulumirpc.LanguageRuntime_ServiceDesc
	d.Methods = nil
	d.Streams = nil
	for _, s := range pulumirpc.LanguageRuntime_ServiceDesc.Streams {
		if s.StreamName == "RunPlugin" {
			d.Streams = append(d.Streams, s)
		}
	}
	return d
}()

// frame carries a message through the proxy without decoding it.
type frame struct{ payload []byte }

// frameCodec is the "proto" codec, with frames passed through as they are.
type frameCodec struct{}

func (frameCodec) Name() string { return "proto" }

func (frameCodec) Marshal(v any) ([]byte, error) {
	if f, ok := v.(*frame); ok {
		return f.payload, nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return nil, fmt.Errorf("cannot marshal %T", v)
	}
	return proto.Marshal(m)
}

func (frameCodec) Unmarshal(data []byte, v any) error {
	if f, ok := v.(*frame); ok {
		f.payload = append([]byte(nil), data...)
		return nil
	}
	m, ok := v.(proto.Message)
	if !ok {
		return fmt.Errorf("cannot unmarshal into %T", v)
	}
	return proto.Unmarshal(data, m)
}

// forward relays one call, unary or streaming, to the backend.
func forward(conn *grpc.ClientConn) grpc.StreamHandler {
	return func(_ any, ss grpc.ServerStream) error {
		method, ok := grpc.MethodFromServerStream(ss)
		if !ok {
			return status.Error(codes.Internal, "no method in stream")
		}
		ctx, cancel := context.WithCancel(ss.Context())
		defer cancel()
		md, _ := metadata.FromIncomingContext(ctx)
		cs, err := conn.NewStream(metadata.NewOutgoingContext(ctx, md.Copy()),
			&grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method)
		if err != nil {
			return err
		}
		up := make(chan error, 1)
		go func() {
			for {
				f := &frame{}
				if err := ss.RecvMsg(f); err != nil {
					if errors.Is(err, io.EOF) {
						up <- cs.CloseSend()
					} else {
						up <- err
					}
					return
				}
				if err := cs.SendMsg(f); err != nil {
					up <- err
					return
				}
			}
		}()
		first := true
		for {
			f := &frame{}
			if err := cs.RecvMsg(f); err != nil {
				ss.SetTrailer(cs.Trailer())
				if errors.Is(err, io.EOF) {
					return nil
				}
				return err
			}
			if first {
				first = false
				if h, err := cs.Header(); err == nil {
					_ = ss.SendHeader(h)
				}
			}
			if err := ss.SendMsg(f); err != nil {
				return err
			}
		}
	}
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer
}

// RunPlugin starts a Node.js policy pack: node <run-policy-pack> <args...> <policy pack directory>.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, stream pulumirpc.LanguageRuntime_RunPluginServer) error {
	if req.GetKind() != "analyzer" {
		return status.Errorf(codes.Unimplemented,
			"harbor-ha's nodejs language host runs only policy packs as plugins (kind %q)", req.GetKind())
	}
	dir := req.GetInfo().GetProgramDirectory()
	if dir == "" {
		dir = req.GetPwd()
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return err
	}
	resolve := exec.CommandContext(stream.Context(), node, "-e",
		`process.stdout.write(require.resolve("@pulumi/pulumi/cmd/run-policy-pack"))`)
	resolve.Dir = dir
	runPath, err := resolve.Output()
	if err != nil {
		return fmt.Errorf("it looks like the policy pack's dependencies are not installed; "+
			"try running npm install in %q (%w)", dir, err)
	}
	args := append([]string{string(runPath)}, req.GetArgs()...)
	args = append(args, dir)
	env := req.GetEnv()
	if len(env) == 0 {
		env = os.Environ()
	}
	if ts, ok := req.GetInfo().GetOptions().AsMap()["typescript"].(bool); !ok || ts {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	var mu sync.Mutex
	send := func(r *pulumirpc.RunPluginResponse) error {
		mu.Lock()
		defer mu.Unlock()
		return stream.Send(r)
	}
	cmd := exec.CommandContext(stream.Context(), node, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout = writerFunc(func(p []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stdout{Stdout: append([]byte(nil), p...)}})
	})
	cmd.Stderr = writerFunc(func(p []byte) error {
		return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Stderr{Stderr: append([]byte(nil), p...)}})
	})
	code := 0
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			return err
		}
		code = ee.ExitCode()
	}
	return send(&pulumirpc.RunPluginResponse{Output: &pulumirpc.RunPluginResponse_Exitcode{Exitcode: int32(code)}})
}

type writerFunc func([]byte) error

func (w writerFunc) Write(p []byte) (int, error) {
	if err := w(p); err != nil {
		return 0, err
	}
	return len(p), nil
}
