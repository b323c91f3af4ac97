package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/pkg/sftp"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

// connection is command's remote.Connection (with an optional proxy of the same shape).
type connection struct {
	host, user, password, privateKey, privateKeyPassword, agentSocketPath, hostKey string
	port, dialErrorLimit, perDialTimeout                                           int
	proxy                                                                          *connection
}

func parseConnection(v resource.PropertyValue) (*connection, error) {
	m, ok := object(v)
	if !ok {
		return nil, errors.New("connection must be an object")
	}
	c := &connection{user: "root", port: 22, dialErrorLimit: 10, perDialTimeout: 15}
	get := func(k resource.PropertyKey) string { s, _ := str(m, k); return s }
	c.host = get("host")
	if c.host == "" {
		return nil, errNoHost
	}
	if s := get("user"); s != "" {
		c.user = s
	}
	c.password = get("password")
	c.privateKey = get("privateKey")
	c.privateKeyPassword = get("privateKeyPassword")
	c.agentSocketPath = get("agentSocketPath")
	c.hostKey = get("hostKey")
	if n, ok := asNumber(m["port"]); ok {
		c.port = int(n)
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

func (c *connection) endpoint() string { return net.JoinHostPort(c.host, strconv.Itoa(c.port)) }

func (c *connection) clientConfig() (*ssh.ClientConfig, error) {
	cfg := &ssh.ClientConfig{
		User:    c.user,
		Timeout: time.Duration(c.perDialTimeout) * time.Second,
		//nolint:gosec // like @pulumi/command: without a pinned host key any key is accepted
		HostKeyCallback: ssh.InsecureIgnoreHostKey(),
	}
	if c.hostKey != "" {
		key, _, _, _, err := ssh.ParseAuthorizedKey([]byte(c.hostKey))
		if err != nil {
			return nil, fmt.Errorf("parsing hostKey: %w", err)
		}
		cfg.HostKeyCallback = ssh.FixedHostKey(key)
		cfg.HostKeyAlgorithms = []string{key.Type()}
		if key.Type() == ssh.KeyAlgoRSA { // an RSA host key also signs with the SHA-2 algorithms
			cfg.HostKeyAlgorithms = []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
		}
	}
	if c.privateKey != "" {
		var signer ssh.Signer
		var err error
		if c.privateKeyPassword != "" {
			signer, err = ssh.ParsePrivateKeyWithPassphrase([]byte(c.privateKey), []byte(c.privateKeyPassword))
		} else {
			signer, err = ssh.ParsePrivateKey([]byte(c.privateKey))
		}
		if err != nil {
			return nil, fmt.Errorf("parsing privateKey: %w", err)
		}
		cfg.Auth = append(cfg.Auth, ssh.PublicKeys(signer))
	}
	if c.password != "" {
		pw := c.password
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
	if sock == "" {
		sock = os.Getenv("SSH_AUTH_SOCK")
	}
	if sock != "" {
		if conn, err := net.Dial("unix", sock); err == nil {
			cfg.Auth = append(cfg.Auth, ssh.PublicKeysCallback(agent.NewClient(conn).Signers))
		}
	}
	return cfg, nil
}

// withRetry calls dial until it succeeds, the context ends or the dial error limit is reached
// (dialErrorLimit < 0 retries forever).
func withRetry[T any](ctx context.Context, what string, limit int, dial func() (T, error)) (T, error) {
	var zero T
	delay := time.Second
	for attempt := 1; ; attempt++ {
		v, err := dial()
		if err == nil {
			return v, nil
		}
		if strings.Contains(err.Error(), "host key mismatch") { // retrying cannot help
			return zero, fmt.Errorf("%s: %w", what, err)
		}
		if limit >= 0 && attempt >= limit {
			return zero, fmt.Errorf("%s: giving up after %d attempts: %w", what, attempt, err)
		}
		select {
		case <-ctx.Done():
			return zero, fmt.Errorf("%s: %w (last error: %v)", what, ctx.Err(), err)
		case <-time.After(delay):
		}
		if delay < 8*time.Second {
			delay *= 2
		}
	}
}

func (c *connection) dial(ctx context.Context) (*ssh.Client, error) {
	cfg, err := c.clientConfig()
	if err != nil {
		return nil, err
	}
	if c.proxy == nil {
		return withRetry(ctx, "dial "+c.endpoint(), c.dialErrorLimit, func() (*ssh.Client, error) {
			return ssh.Dial("tcp", c.endpoint(), cfg)
		})
	}
	proxy, err := c.proxy.dial(ctx)
	if err != nil {
		return nil, fmt.Errorf("proxy: %w", err)
	}
	return withRetry(ctx, "dial "+c.endpoint()+" through the proxy", c.dialErrorLimit, func() (*ssh.Client, error) {
		nc, err := proxy.Dial("tcp", c.endpoint())
		if err != nil {
			return nil, err
		}
		conn, chans, reqs, err := ssh.NewClientConn(nc, c.endpoint(), cfg)
		if err != nil {
			nc.Close()
			return nil, err
		}
		return ssh.NewClient(conn, chans, reqs), nil
	})
}

func runRemote(
	ctx context.Context, conn *connection, cmd string, env, prevEnv map[string]string, stdin string,
	logw io.Writer, logOut, logErr bool, warn func(string),
) (runResult, error) {
	client, err := conn.dial(ctx)
	if err != nil {
		return runResult{}, err
	}
	defer client.Close()
	session, err := client.NewSession()
	if err != nil {
		return runResult{}, err
	}
	defer session.Close()
	const acceptEnv = "this only works if the SSH server accepts it (AcceptEnv); " +
		"or prefix the command with VAR=value"
	for k, v := range env {
		if err := session.Setenv(k, v); err != nil {
			return runResult{}, fmt.Errorf("could not set environment variable %q (%s): %w", k, acceptEnv, err)
		}
	}
	for k, v := range prevEnv {
		if err := session.Setenv(k, v); err != nil {
			warn(fmt.Sprintf("could not set %s: %s", k, acceptEnv))
		}
	}
	if stdin != "" {
		session.Stdin = strings.NewReader(stdin)
	}
	cw := newCapture(logw, logOut, logErr)
	session.Stdout, session.Stderr = cw.stdout, cw.stderr

	done := make(chan error, 1)
	go func() { done <- session.Run(cmd) }()
	select {
	case err = <-done:
	case <-ctx.Done():
		_ = session.Signal(ssh.SIGTERM)
		client.Close()
		err = ctx.Err()
	}
	return cw.result(), err
}

// copyToRemote uploads a CopyToRemote source (file asset, text asset, file or directory archive)
// or a CopyFile localPath over SFTP, with the path rules of @pulumi/command:
//
//	source | remotePath is a dir | remotePath missing | remotePath is a file
//	dir    | remotePath/dir      | remotePath/dir     | error
//	dir/   | remotePath/<each>   | remotePath/dir     | error
//	file   | remotePath/file     | remotePath         | remotePath (overwritten)
func (s *server) copyToRemote(ctx context.Context, urn resource.URN, t string, props resource.PropertyMap) error {
	conn, err := parseConnection(props["connection"])
	if err != nil {
		return err
	}
	remotePath, _ := str(props, "remotePath")
	var localPath, text string
	isText := false
	if t == tokCopyFile {
		localPath, _ = str(props, "localPath")
	} else {
		src := plainTop(props["source"])
		switch {
		case src.IsAsset() && src.AssetValue().IsText():
			isText, text = true, src.AssetValue().Text
		case src.IsAsset():
			localPath = src.AssetValue().Path
		case src.IsArchive():
			localPath = src.ArchiveValue().Path
		default:
			return errors.New("source must be a file asset, a text asset or a path archive")
		}
	}
	client, err := conn.dial(ctx)
	if err != nil {
		return err
	}
	defer client.Close()
	sc, err := sftp.NewClient(client, sftp.UseConcurrentWrites(true))
	if err != nil {
		return fmt.Errorf("starting SFTP on %s: %w", conn.endpoint(), err)
	}
	defer sc.Close()
	if isText {
		st, err := remoteStat(sc, remotePath)
		if err != nil {
			return err
		}
		if st != nil && st.IsDir() {
			return fmt.Errorf("remote path %s is a directory; a text asset needs a file path", remotePath)
		}
		if err := sc.MkdirAll(path.Dir(remotePath)); err != nil {
			return fmt.Errorf("creating %s: %w", path.Dir(remotePath), err)
		}
		return writeRemote(sc, strings.NewReader(text), remotePath)
	}
	return sftpCopy(sc, localPath, remotePath)
}

func remoteStat(sc *sftp.Client, p string) (fs.FileInfo, error) {
	st, err := sc.Stat(p)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("stat %s: %w", p, err)
	}
	return st, nil
}

func writeRemote(sc *sftp.Client, r io.Reader, dst string) error {
	f, err := sc.Create(dst)
	if err != nil {
		return fmt.Errorf("creating remote file %s: %w", dst, err)
	}
	if _, err := f.ReadFrom(r); err != nil {
		f.Close()
		return fmt.Errorf("writing remote file %s: %w", dst, err)
	}
	return f.Close()
}

func copyLocalFile(sc *sftp.Client, src, dst string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	return writeRemote(sc, f, dst)
}

func sftpCopy(sc *sftp.Client, src, dst string) error {
	info, err := os.Stat(src)
	if err != nil {
		return err
	}
	st, err := remoteStat(sc, dst)
	if err != nil {
		return err
	}
	if !info.IsDir() {
		switch {
		case st != nil && st.IsDir():
			dst = path.Join(dst, filepath.Base(src))
		case st == nil:
			if err := sc.MkdirAll(path.Dir(dst)); err != nil {
				return fmt.Errorf("creating %s: %w", path.Dir(dst), err)
			}
		}
		return copyLocalFile(sc, src, dst)
	}
	if st != nil && !st.IsDir() {
		return fmt.Errorf("remote path %s exists but is not a directory", dst)
	}
	if st == nil {
		if err := sc.MkdirAll(dst); err != nil {
			return fmt.Errorf("creating %s: %w", dst, err)
		}
	}
	if !strings.HasSuffix(src, "/") {
		dst = path.Join(dst, filepath.Base(src))
	}
	root := os.DirFS(src)
	return fs.WalkDir(root, ".", func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		target := path.Join(dst, filepath.ToSlash(rel))
		if !d.IsDir() {
			return copyLocalFile(sc, filepath.Join(src, rel), target)
		}
		st, err := remoteStat(sc, target)
		if err != nil {
			return err
		}
		if st == nil {
			return sc.Mkdir(target)
		}
		if !st.IsDir() {
			return fmt.Errorf("remote path %s exists but is not a directory", target)
		}
		return nil
	})
}
