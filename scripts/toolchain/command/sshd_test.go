package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/binary"
	"encoding/pem"
	"io"
	"net"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/crypto/ssh"
)

// testSSHD is a minimal SSH server for the tests: `exec` runs /bin/sh -c, `env` is accepted for
// the names in acceptEnv only, and it records the last session and counts connections.
type testSSHD struct {
	addr      string
	hostKey   string // authorized_keys line
	clientKey string // PEM private key it accepts
	acceptEnv map[string]bool

	mu        sync.Mutex
	conns     int
	lastEnv   []string
	lastStdin string
}

func newKey(t *testing.T) (ssh.Signer, string, string) {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	block, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	sp, _ := ssh.NewPublicKey(pub)
	return signer, strings.TrimSpace(string(ssh.MarshalAuthorizedKey(sp))), string(pem.EncodeToMemory(block))
}

func startTestSSHD(t *testing.T, acceptEnv ...string) *testSSHD {
	t.Helper()
	hostSigner, hostLine, _ := newKey(t)
	clientSigner, _, clientPEM := newKey(t)
	d := &testSSHD{hostKey: hostLine, clientKey: clientPEM, acceptEnv: map[string]bool{}}
	for _, e := range acceptEnv {
		d.acceptEnv[e] = true
	}
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if string(key.Marshal()) == string(clientSigner.PublicKey().Marshal()) {
				return nil, nil
			}
			return nil, io.EOF
		},
	}
	cfg.AddHostKey(hostSigner)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	d.addr = l.Addr().String()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			d.mu.Lock()
			d.conns++
			d.mu.Unlock()
			go d.serve(c, cfg)
		}
	}()
	return d
}

func (d *testSSHD) port() float64 {
	a, _ := net.ResolveTCPAddr("tcp", d.addr)
	return float64(a.Port)
}

func (d *testSSHD) connections() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.conns
}

func (d *testSSHD) serve(c net.Conn, cfg *ssh.ServerConfig) {
	_, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	go ssh.DiscardRequests(reqs)
	for nc := range chans {
		ch, creqs, err := nc.Accept()
		if err != nil {
			continue
		}
		go d.session(ch, creqs)
	}
}

func (d *testSSHD) session(ch ssh.Channel, reqs <-chan *ssh.Request) {
	defer ch.Close()
	var env []string
	for req := range reqs {
		switch req.Type {
		case "env":
			var kv struct{ K, V string }
			_ = ssh.Unmarshal(req.Payload, &kv)
			ok := d.acceptEnv[kv.K]
			if ok {
				env = append(env, kv.K+"="+kv.V)
			}
			_ = req.Reply(ok, nil)
		case "exec":
			var p struct{ Cmd string }
			_ = ssh.Unmarshal(req.Payload, &p)
			_ = req.Reply(true, nil)
			cmd := exec.Command("/bin/sh", "-c", p.Cmd)
			cmd.Env = append([]string{"PATH=/usr/bin:/bin"}, env...)
			stdin, _ := io.ReadAll(ch)
			cmd.Stdin = strings.NewReader(string(stdin))
			cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
			d.mu.Lock()
			d.lastEnv, d.lastStdin = env, string(stdin)
			d.mu.Unlock()
			code := 0
			if err := cmd.Run(); err != nil {
				code = 127
				if ee, ok := err.(*exec.ExitError); ok {
					code = ee.Sys().(syscall.WaitStatus).ExitStatus()
				}
			}
			b := make([]byte, 4)
			binary.BigEndian.PutUint32(b, uint32(code))
			_, _ = ch.SendRequest("exit-status", false, b)
			return
		default:
			_ = req.Reply(false, nil)
		}
	}
}
