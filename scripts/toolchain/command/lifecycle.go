package main

import (
	"context"
	"fmt"
	"reflect"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/diag"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/emptypb"
)

// Create runs `create` (commands) or copies (CopyToRemote, CopyFile); in a preview nothing runs.
// IDs are upstream's: "<name><8 hex>" for commands, also in a preview; "<8 hex>" for copies, empty
// in a preview.
func (s *server) Create(reqCtx context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	rt, t, err := resourceTypeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	inputs, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if err := decodeError(inputs, rt.inputs, "invalid inputs: "); err != nil {
		return nil, err
	}
	if err := unsupported(t, inputs); err != nil {
		return nil, err
	}
	urn, preview := resource.URN(req.GetUrn()), req.GetPreview()
	outs := encodeInputs(inputs, rt.inputs, encodeOpts{keepUnknowns: preview}, nil)
	ctx, cancel := s.runContext(reqCtx)
	defer cancel()
	id := ""
	if rt.namedID {
		if id, err = resource.NewUniqueHex(urn.Name(), 8, 0); err != nil {
			return nil, err
		}
	}
	switch {
	case rt.outputs != nil: // a command
		stdout, stderr := "", ""
		if cmd, ok := str(inputs, "create"); ok && !preview {
			if stdout, stderr, err = s.runCommand(ctx, urn, t, inputs, cmd, nil); err != nil {
				return nil, err
			}
		}
		outs["stdout"], outs["stderr"] = resource.NewStringProperty(stdout), resource.NewStringProperty(stderr)
	case !preview:
		if t == tokCopyFile {
			err = copyFile(ctx, s.retry, inputs, s.copyLog(ctx, urn))
		} else {
			err = copyToRemote(ctx, s.retry, inputs, s.copyLog(ctx, urn))
		}
		if err != nil {
			return nil, err
		}
		if id, err = resource.NewUniqueHex("", 8, 0); err != nil {
			return nil, err
		}
	}
	markOutputs(outs, inputs, nil, inputKeys(rt), true, preview)
	props, err := marshal(outs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

// Update runs `update`, or `create` when there is none (commands; stdout and stderr stay those of
// the last run otherwise), or copies again when the source's hash or remotePath changed.
func (s *server) Update(reqCtx context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	rt, t, err := resourceTypeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	if !rt.hasUpdate {
		return nil, status.Errorf(codes.Unimplemented, "Update is not implemented for resource %s", req.GetUrn())
	}
	olds, err := unmarshal(req.GetOlds())
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	for _, k := range req.GetIgnoreChanges() {
		if v, ok := olds[resource.PropertyKey(k)]; ok {
			news[resource.PropertyKey(k)] = v
		}
	}
	if err := decodeError(olds, rt.state, ""); err != nil {
		return nil, err
	}
	if err := decodeError(news, rt.inputs, ""); err != nil {
		return nil, err
	}
	if err := unsupported(t, news); err != nil {
		return nil, err
	}
	urn, preview := resource.URN(req.GetUrn()), req.GetPreview()
	outs := encodeInputs(news, rt.inputs, encodeOpts{keepUnknowns: preview}, nil)
	ctx, cancel := s.runContext(reqCtx)
	defer cancel()
	switch {
	case rt.outputs != nil:
		stdout, _ := str(olds, "stdout")
		stderr, _ := str(olds, "stderr")
		if !preview {
			cmd, ok := str(news, "update")
			if !ok {
				cmd, ok = str(news, "create")
			}
			if ok {
				if stdout, stderr, err = s.runCommand(ctx, urn, t, news, cmd, olds); err != nil {
					return nil, err
				}
			}
		}
		outs["stdout"], outs["stderr"] = resource.NewStringProperty(stdout), resource.NewStringProperty(stderr)
	case !preview && copyNeeded(news, olds):
		if err := copyToRemote(ctx, s.retry, news, s.copyLog(ctx, urn)); err != nil {
			return nil, err
		}
	}
	markOutputs(outs, news, olds, inputKeys(rt), false, preview)
	props, err := marshal(outs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.UpdateResponse{Properties: props}, nil
}

// copyNeeded: upstream copies again only when the source's hash or remotePath changed.
func copyNeeded(news, olds resource.PropertyMap) bool {
	hash := func(m resource.PropertyMap) string {
		v, _, _ := peel(m["source"])
		switch {
		case v.IsAsset():
			return v.AssetValue().Hash
		case v.IsArchive():
			return v.ArchiveValue().Hash
		}
		return ""
	}
	np, _ := str(news, "remotePath")
	op, _ := str(olds, "remotePath")
	return hash(news) != hash(olds) || np != op
}

// Delete runs a command's `delete` with what the state holds (stdin, environment, previous
// stdout/stderr); copies leave their files on the host.
func (s *server) Delete(reqCtx context.Context, req *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	rt, t, err := resourceTypeOf(req.GetUrn())
	if err != nil {
		return nil, err
	}
	state, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	if rt.outputs == nil { // copies have no Delete
		return &emptypb.Empty{}, nil
	}
	if err := decodeError(state, rt.state, ""); err != nil {
		return nil, err
	}
	ctx, cancel := s.runContext(reqCtx)
	defer cancel()
	if cmd, ok := str(state, "delete"); ok {
		if _, _, err := s.runCommand(ctx, resource.URN(req.GetUrn()), t, state, cmd, state); err != nil {
			return nil, err
		}
	}
	return &emptypb.Empty{}, nil
}

// decodeError: inputs or a state that do not decode into t fail a Create ("invalid inputs: ..."),
// Update or Delete, as upstream's do, with the mapper's message.
func decodeError(m resource.PropertyMap, t reflect.Type, prefix string) error {
	if t == nil {
		return nil
	}
	if merr := decode(m, t); merr != nil {
		return fmt.Errorf("%s%w", prefix, merr)
	}
	return nil
}

// runCommand runs cmd for a remote or local Command with the resource's settings. prev holds the
// previous outputs (stdout, stderr), set as PULUMI_COMMAND_STDOUT/STDERR unless
// addPreviousOutputInEnv is false. Errors carry the command and its combined output, and stdout
// and stderr lose one trailing newline, as upstream's.
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
	prevEnv := map[string]string{}
	if b, ok := asBool(props["addPreviousOutputInEnv"]); !ok || b {
		if v, _ := str(prev, "stdout"); v != "" {
			prevEnv["PULUMI_COMMAND_STDOUT"] = v
		}
		if v, _ := str(prev, "stderr"); v != "" {
			prevEnv["PULUMI_COMMAND_STDERR"] = v
		}
	}
	stdin, _ := str(props, "stdin")
	// Without `logging` both streams are logged; any value but the four known ones logs neither.
	logging, hasLogging := str(props, "logging")
	logOut := !hasLogging || logging == "stdout" || logging == "stdoutAndStderr"
	logErr := !hasLogging || logging == "stderr" || logging == "stdoutAndStderr"
	lw := newLineLogger(s.status(ctx, urn))

	var res runResult
	var err error
	if t == tokLocalCommand {
		res, err = runLocal(ctx, props, cmd, env, prevEnv, stdin, lw, logOut, logErr)
	} else {
		var conn *connection
		if conn, err = parseConnection(props["connection"]); err != nil {
			return "", "", err
		}
		res, err = runRemote(ctx, s.retry, remoteRun{
			conn: conn, env: env, prevEnv: prevEnv, stdin: stdin, logw: lw, logOut: logOut, logErr: logErr,
			status: s.status(ctx, urn),
			log: func(sev, msg string) {
				if sev == "error" {
					s.log(ctx, diag.Error, urn, msg)
				} else {
					s.log(ctx, diag.Warning, urn, msg)
				}
			},
		}, cmd)
	}
	lw.Flush()
	if err != nil {
		return "", "", err
	}
	return strings.TrimSuffix(res.stdout, "\n"), strings.TrimSuffix(res.stderr, "\n"), nil
}

type runResult struct{ stdout, stderr, combined string }

// runError is a command's failure: the error, the command and everything it printed. (Dialing or
// setting up a session fails with the error alone.)
func runError(err error, cmd string, res runResult) error {
	return fmt.Errorf("%w: running %q:\n%s", err, cmd, res.combined)
}

// copyLog: a copy reports dial retries as status messages and what it copies as a debug message.
func (s *server) copyLog(ctx context.Context, urn resource.URN) copyLogger {
	return copyLogger{status: s.status(ctx, urn), debug: func(msg string) { s.log(ctx, diag.Debug, urn, msg) }}
}

// unsupported: local.Command's assetPaths and archivePaths pass Check (as upstream's do) but their
// outputs are not implemented here, so a Create or Update that uses them fails rather than
// silently producing nothing.
func unsupported(t string, inputs resource.PropertyMap) error {
	if t != tokLocalCommand {
		return nil
	}
	for _, k := range []resource.PropertyKey{"assetPaths", "archivePaths"} {
		if v, ok := inputs[k]; ok && !v.IsNull() {
			return status.Errorf(codes.Unimplemented, "harbor-ha's command plugin does not implement local.Command's %s", k)
		}
	}
	return nil
}
