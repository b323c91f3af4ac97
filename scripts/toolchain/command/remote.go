package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// connection is command's remote.Connection (with an optional proxy of the same shape), as Check
// returned it: the defaults are filled in. nil pointers are absent properties.
type connection struct {
	host, user, password, privateKey, privateKeyPassword, agentSocketPath, hostKey *string
	port                                                                           float64
	dialErrorLimit, perDialTimeout                                                 int
	proxy                                                                          *connection
}

func parseConnection(v resource.PropertyValue) (*connection, error) {
	m, ok := object(v)
	if !ok {
		return nil, errors.New("connection must be an object")
	}
	get := func(k resource.PropertyKey) *string {
		if s, ok := str(m, k); ok {
			return &s
		}
		return nil
	}
	root := "root"
	c := &connection{
		host: get("host"), user: get("user"), password: get("password"), privateKey: get("privateKey"),
		privateKeyPassword: get("privateKeyPassword"), agentSocketPath: get("agentSocketPath"),
		hostKey: get("hostKey"), port: 22, dialErrorLimit: 10, perDialTimeout: 15,
	}
	if c.host == nil {
		return nil, errors.New("connection.host is required")
	}
	if c.user == nil { // only in a state that did not come from Check
		c.user = &root
	}
	if n, ok := asNumber(m["port"]); ok {
		c.port = n
	}
	if n, ok := asNumber(m["dialErrorLimit"]); ok {
		c.dialErrorLimit = int(n)
	}
	if n, ok := asNumber(m["perDialTimeout"]); ok {
		c.perDialTimeout = int(n)
	}
	if p, ok := m["proxy"]; ok && !p.IsNull() {
		proxy, err := parseConnection(p)
		if err != nil {
			return nil, fmt.Errorf("proxy: %w", err)
		}
		c.proxy = proxy
	}
	return c, nil
}

func (c *connection) endpoint() string {
	return net.JoinHostPort(*c.host, fmt.Sprintf("%d", int(c.port)))
}

// clientConfig follows upstream: a present hostKey (even "") must parse and is the only key
// accepted, with its type as the only host key algorithm (x/crypto/ssh also offers the SHA-2
// signatures for an ssh-rsa key); without it any host key is accepted. A private key, password and
// agent are used when present; an agent socket that cannot be dialed is an error.
func (c *connection) clientConfig() (*ssh.ClientConfig, error) {
	cfg := &ssh.ClientConfig{
		User:    *c.user,
		Timeout: time.Second * time.Duration(c.perDialTimeout),
		//nolint:gosec // like @pulumi/command: without a pinned host key any key is accepted
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	}
	if c.hostKey != nil {
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(*c.hostKey))
		if err != nil {
			return nil, fmt.Errorf("failed to parse host key: %w", err)
		}
		cfg.HostKeyCallback = ssh.FixedHostKey(key)
		cfg.HostKeyAlgorithms = []string{key.Type()}
	}
	if c.privateKey != nil {
		var signer ssh.Signer
		var err error
		if c.privateKeyPassword != nil {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(*c.privateKey), []byte(*c.privateKeyPassword))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(*c.privateKey))
		}
		if err != nil {
			return nil, err
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeys(signer))
	}
	if c.password != nil {
		pw := *c.password
		cfg.Auth = append(cfg.Auth, ssh.Password(pw),
			ssh.KeyboardInteractive(func(_, _ string, questions []string, _ []bool) ([]string, error) {
				answers := make([]string, len(questions))
				for i := range answers {
					answers[i] = pw
				}
				return answers, nil
			}))
	}
	sock := c.agentSocketPath
	if sock == nil {
		if env := os.Getenv("SSH_AUTH_SOCK"); env != "" {
			sock = &env
		}
	}
	if sock != nil {
		conn, err := net.Dial("unix", *sock)
		if err != nil {
			return nil, err
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
	}
	return cfg, nil
}

// dial connects, directly or through the proxy, retrying as upstream does (retry.go).
func (c *connection) dial(ctx context.Context, p retryPolicy, status func(string)) (*ssh.Client, error) {
	cfg, err := c.clientConfig()
	if err != nil {
		return nil, err
	}
	endpoint := c.endpoint()
	if c.proxy == nil {
		return dialWithRetry(ctx, p, "Dial", c.dialErrorLimit, status, func() (*ssh.Client, error) {
			return ssh.Dial("tcp", endpoint, cfg)
		})
	}
	proxyCfg, err := c.proxy.clientConfig()
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	proxy, err := dialWithRetry(ctx, p, "Dial proxy", c.proxy.dialErrorLimit, status, func() (*ssh.Client, error) {
		return ssh.Dial("tcp", c.proxy.endpoint(), proxyCfg)
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	nc, err := dialWithRetry(ctx, p, "Dial from proxy", c.dialErrorLimit, status, func() (net.Conn, error) {
		return proxy.Dial("tcp", endpoint)
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	type clientConn struct {
		conn  ssh.Conn
		chans <-chan ssh.NewChannel
		reqs  <-chan *ssh.Request
	}
	cc, err := dialWithRetry(ctx, p, "Dial", c.dialErrorLimit, status, func() (clientConn, error) {
		conn, chans, reqs, err := ssh.NewClientConn(nc, endpoint, cfg)
		return clientConn{conn, chans, reqs}, err
	})
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	return ssh.NewClient(cc.conn, cc.chans, cc.reqs), nil
}

// setenvHelp is upstream's message when the server refuses a variable.
const setenvHelp = `Unable to set '%s'. This only works if your SSH server is configured to accept
	these variables via AcceptEnv. Alternatively, if a Bash-like shell runs the command on the remote host, you could
	prefix the command itself with the variables in the form 'VAR=value command'`

// remoteRun is what a remote command needs besides the command line.
type remoteRun struct {
	conn    *connection
	env     map[string]string
	prevEnv map[string]string // PULUMI_COMMAND_STDOUT/STDERR: a refusal only warns
	stdin   string
	logw    io.Writer
	logOut  bool
	logErr  bool
	log     func(sev string, msg string) // "error", "warning"
	status  func(string)
}

func runRemote(ctx context.Context, p retryPolicy, r remoteRun, cmd string) (runResult, error) {
	client, err := r.conn.dial(ctx, p, r.status)
	if err != nil {
		return runResult{}, err
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		return runResult{}, err
	}
	defer session.Close()
	for _, k := range sortedKeys(r.env) {
		if err := session.Setenv(k, r.env[k]); err != nil {
			r.log("error", fmt.Sprintf(setenvHelp, k))
			return runResult{}, fmt.Errorf("could not set environment variable %q: %w", k, err)
		}
	}
	for _, k := range []string{"PULUMI_COMMAND_STDOUT", "PULUMI_COMMAND_STDERR"} {
		if v, ok := r.prevEnv[k]; ok {
			if err := session.Setenv(k, v); err != nil {
				r.log("warning", fmt.Sprintf(setenvHelp, k))
			}
		}
	}
	if r.stdin != "" {
		session.Stdin = strings.NewReader(r.stdin)
	}
	cw := newCapture(r.logw, r.logOut, r.logErr)
	session.Stdout, session.Stderr = cw.stdout, cw.stderr

	done := make(chan error, 1)
	go func() { done <- session.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done(): // the engine cancelled: stop the command (upstream waits for it)
		_ = session.Signal(ssh.SIGTERM)
		client.Close()
		err = ctx.Err()
	}
	if err != nil {
		return runResult{}, runError(err, cmd, cw.result())
	}
	return cw.result(), nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
