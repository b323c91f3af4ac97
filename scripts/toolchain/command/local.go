package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// runLocal runs a local.Command: `interpreter... cmd` (default /bin/sh -c) in `dir`.
func runLocal(
	ctx context.Context, props resource.PropertyMap, cmd string, env, prevEnv map[string]string, stdin string,
	logw io.Writer, logOut, logErr bool,
) (runResult, error) {
	args := []string{"/bin/sh", "-c"}
	if v, _, _ := peel(props["interpreter"]); v.IsArray() && len(v.ArrayValue()) > 0 {
		args = nil
		for _, e := range v.ArrayValue() {
			s, _ := asString(e)
			args = append(args, s)
		}
	}
	args = append(args, cmd)
	c := exec.CommandContext(ctx, args[0], args[1:]...)
	if dir, ok := str(props, "dir"); ok && dir != "" {
		c.Dir = dir
	}
	c.Env = os.Environ()
	for k, v := range prevEnv {
		c.Env = append(c.Env, k+"="+v)
	}
	for k, v := range env {
		c.Env = append(c.Env, k+"="+v)
	}
	if stdin != "" {
		c.Stdin = strings.NewReader(stdin)
	}
	cw := newCapture(logw, logOut, logErr)
	c.Stdout, c.Stderr = cw.stdout, cw.stderr
	if err := c.Run(); err != nil {
		return runResult{}, runError(err, cmd, cw.result())
	}
	return cw.result(), nil
}

// capture keeps a command's stdout, stderr and both interleaved, and copies to the engine's log
// what the resource's `logging` asks for.
type capture struct {
	out, errb, both bytes.Buffer
	stdout, stderr  io.Writer
}

func newCapture(logw io.Writer, logOut, logErr bool) *capture {
	c := &capture{}
	sw := &syncWriter{w: &c.both}
	outWriters := []io.Writer{&c.out, sw}
	if logOut {
		outWriters = append(outWriters, logw)
	}
	errWriters := []io.Writer{&c.errb, sw}
	if logErr {
		errWriters = append(errWriters, logw)
	}
	c.stdout, c.stderr = io.MultiWriter(outWriters...), io.MultiWriter(errWriters...)
	return c
}

func (c *capture) result() runResult {
	return runResult{stdout: c.out.String(), stderr: c.errb.String(), combined: c.both.String()}
}

// syncWriter serialises writes from the stdout and stderr copiers.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
