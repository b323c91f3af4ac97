package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"
)

const testURN = "urn:pulumi:dev::harbor-ha::harbor-ha:index:HarborNode$command:remote:Command::n1-deploy"

func mustMarshal(t *testing.T, m resource.PropertyMap) *structpb.Struct {
	t.Helper()
	s, err := marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func mustUnmarshal(t *testing.T, s *structpb.Struct) resource.PropertyMap {
	t.Helper()
	m, err := unmarshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The npm SDK sends `connection` as one secret holding a plain privateKey. Check must return it
// secret, privateKey secret inside it, and the defaults filled in: a stack moved from upstream
// otherwise shows every command as an update (the diff compares secret-wrapped values).
func TestCheckMarksConnectionSecretAndFillsDefaults(t *testing.T) {
	s := newServer(nil)
	for _, wrapped := range []bool{true, false} {
		conn := resource.NewObjectProperty(resource.PropertyMap{
			"host": resource.NewStringProperty("10.0.0.1"), "privateKey": resource.NewStringProperty("KEY"),
		})
		if wrapped {
			conn = resource.MakeSecret(conn)
		}
		resp, err := s.Check(context.Background(), &pulumirpc.CheckRequest{
			Urn: testURN, News: mustMarshal(t, resource.PropertyMap{"connection": conn, "create": resource.NewStringProperty("true")}),
		})
		if err != nil || len(resp.Failures) != 0 {
			t.Fatalf("Check: %v %v", err, resp.GetFailures())
		}
		c := mustUnmarshal(t, resp.Inputs)["connection"]
		if !c.IsSecret() {
			t.Fatalf("connection not secret: %v", c)
		}
		m := c.SecretValue().Element.ObjectValue()
		if !m["privateKey"].IsSecret() {
			t.Errorf("privateKey not secret: %v", m["privateKey"])
		}
		want := map[resource.PropertyKey]any{"user": "root", "port": 22.0, "dialErrorLimit": 10.0, "perDialTimeout": 15.0}
		for k, v := range want {
			if !m[k].DeepEquals(resource.NewPropertyValue(v)) {
				t.Errorf("default %s = %v, want %v", k, m[k], v)
			}
		}
	}
}

// upstream declares environment as map[string]string: a number is a Check failure.
func TestEnvironmentValuesMustBeStrings(t *testing.T) {
	s := newServer(nil)
	resp, err := s.Check(context.Background(), &pulumirpc.CheckRequest{Urn: testURN, News: mustMarshal(t, resource.PropertyMap{
		"connection":  resource.NewObjectProperty(resource.PropertyMap{"host": resource.NewStringProperty("h")}),
		"environment": resource.NewObjectProperty(resource.PropertyMap{"N": resource.NewNumberProperty(1)}),
	})})
	if err != nil {
		t.Fatal(err)
	}
	want := "environment[N] value: Field 'environment[N] value' on 'remote.CommandInputs' must be a 'string'; got 'float64' instead"
	if len(resp.Failures) != 1 || resp.Failures[0].Property+": "+resp.Failures[0].Reason != want {
		t.Fatalf("failures = %v, want %q", resp.Failures, want)
	}
}

// fakeClock answers every wait at once and records it.
type fakeClock struct{ waits []time.Duration }

func (c *fakeClock) policy() retryPolicy {
	return retryPolicy{after: func(d time.Duration) <-chan time.Time {
		c.waits = append(c.waits, d)
		ch := make(chan time.Time, 1)
		ch <- time.Time{}
		return ch
	}}
}

func (c *fakeClock) total() time.Duration {
	var sum time.Duration
	for _, w := range c.waits {
		sum += w
	}
	return sum
}

// upstream's schedule (retry.Until defaults): dialErrorLimit+1 attempts, waits of 100 ms growing
// 1.5x up to 5 s. dialErrorLimit 30: 31 attempts, 111.33 s of waiting; 10 (the default): 11.33 s.
func TestDialRetrySchedule(t *testing.T) {
	for _, tc := range []struct {
		limit    int
		attempts int
		seconds  float64
	}{{30, 31, 111.33}, {10, 11, 11.33}, {3, 4, 0.475}, {0, 1, 0}} {
		clock := &fakeClock{}
		attempts := 0
		var statuses []string
		_, err := dialWithRetry(context.Background(), clock.policy(), "Dial", tc.limit,
			func(s string) { statuses = append(statuses, s) },
			func() (int, error) { attempts++; return 0, errors.New("connection refused") })
		if attempts != tc.attempts {
			t.Errorf("limit %d: %d attempts, want %d", tc.limit, attempts, tc.attempts)
		}
		if got := clock.total().Seconds(); math.Abs(got-tc.seconds) > 0.01 {
			t.Errorf("limit %d: waited %.3fs, want %.2fs (%v)", tc.limit, got, tc.seconds, clock.waits)
		}
		if want := fmt.Sprintf("after %d failed attempts: connection refused", tc.limit); err == nil || err.Error() != want {
			t.Errorf("limit %d: error %v, want %q", tc.limit, err, want)
		}
		if len(statuses) != tc.limit || (tc.limit > 0 && statuses[0] != fmt.Sprintf("Dial 1/%d failed: retrying", tc.limit)) {
			t.Errorf("limit %d: status messages %q", tc.limit, statuses)
		}
		for _, w := range clock.waits {
			if w > 5*time.Second {
				t.Errorf("limit %d: a wait of %v exceeds 5s", tc.limit, w)
			}
		}
	}
}

func TestDialRetryUnlimitedStopsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	clock := &fakeClock{}
	attempts := 0
	var statuses []string
	_, err := dialWithRetry(ctx, clock.policy(), "Dial", -1, func(s string) { statuses = append(statuses, s) },
		func() (int, error) {
			if attempts++; attempts == 50 {
				cancel()
			}
			return 0, errors.New("refused")
		})
	if !errors.Is(err, context.Canceled) || attempts < 50 || statuses[0] != "Dial 1/inf failed: retrying" {
		t.Fatalf("err %v after %d attempts, %q", err, attempts, statuses[0])
	}
}

// A host key mismatch is retried like any dial error (upstream does; the key may be rotated
// while the host reboots), and the last error says what happened.
func TestHostKeyMismatchIsRetried(t *testing.T) {
	d := startTestSSHD(t)
	_, otherHostKey, _ := newKey(t)
	clock := &fakeClock{}
	conn, err := parseConnection(resource.NewObjectProperty(resource.PropertyMap{
		"host": resource.NewStringProperty("127.0.0.1"), "port": resource.NewNumberProperty(d.port()),
		"privateKey": resource.NewStringProperty(d.clientKey), "hostKey": resource.NewStringProperty(otherHostKey),
		"dialErrorLimit": resource.NewNumberProperty(30),
	}))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("SSH_AUTH_SOCK", "")
	_, err = conn.dial(context.Background(), clock.policy(), func(string) {})
	want := "after 30 failed attempts: ssh: handshake failed: ssh: host key mismatch"
	if err == nil || err.Error() != want {
		t.Fatalf("error %v, want %q", err, want)
	}
	if d.connections() != 31 || math.Abs(clock.total().Seconds()-111.33) > 0.01 {
		t.Fatalf("%d connections, %v waited; want 31 and 111.33s", d.connections(), clock.total())
	}
}

// A real command over SSH: stdout/stderr lose one trailing newline, a failure carries the command
// and its combined output, and delete runs with the stdin and environment stored in the state.
func TestRemoteCommandLifecycle(t *testing.T) {
	d := startTestSSHD(t, "FOO")
	t.Setenv("SSH_AUTH_SOCK", "")
	s := newServer(nil)
	check := func(news resource.PropertyMap) resource.PropertyMap {
		resp, err := s.Check(context.Background(), &pulumirpc.CheckRequest{Urn: testURN, News: mustMarshal(t, news)})
		if err != nil || len(resp.Failures) > 0 {
			t.Fatalf("Check: %v %v", err, resp.GetFailures())
		}
		return mustUnmarshal(t, resp.Inputs)
	}
	conn := resource.MakeSecret(resource.NewObjectProperty(resource.PropertyMap{
		"host": resource.NewStringProperty("127.0.0.1"), "port": resource.NewNumberProperty(d.port()),
		"privateKey": resource.NewStringProperty(d.clientKey), "hostKey": resource.NewStringProperty(d.hostKey),
	}))
	inputs := check(resource.PropertyMap{
		"connection": conn, "create": resource.NewStringProperty(`printf 'out\n\n'; printf 'err\n' >&2`),
		"delete":      resource.NewStringProperty(`cat; echo "FOO=$FOO"`),
		"stdin":       resource.MakeSecret(resource.NewStringProperty("secret input\n")),
		"environment": resource.NewObjectProperty(resource.PropertyMap{"FOO": resource.NewStringProperty("bar")}),
	})
	created, err := s.Create(context.Background(), &pulumirpc.CreateRequest{Urn: testURN, Properties: mustMarshal(t, inputs)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(created.Id, "n1-deploy") || len(created.Id) != len("n1-deploy")+8 {
		t.Errorf("id %q, want n1-deploy<8 hex digits>", created.Id)
	}
	state := mustUnmarshal(t, created.Properties)
	if out, _ := str(state, "stdout"); out != "out\n" {
		t.Errorf("stdout %q, want %q", out, "out\n")
	}
	if errOut, _ := str(state, "stderr"); errOut != "err" {
		t.Errorf("stderr %q, want %q", errOut, "err")
	}
	if _, err := s.Delete(context.Background(), &pulumirpc.DeleteRequest{Urn: testURN, Id: created.Id, Properties: created.Properties}); err != nil {
		t.Fatal(err)
	}
	d.mu.Lock()
	stdin, env := d.lastStdin, strings.Join(d.lastEnv, " ")
	d.mu.Unlock()
	if stdin != "secret input\n" || env != "FOO=bar" {
		t.Errorf("delete ran with stdin %q env %q", stdin, env)
	}
	failing := check(resource.PropertyMap{"connection": conn, "create": resource.NewStringProperty("echo o; echo e >&2; exit 3")})
	_, err = s.Create(context.Background(), &pulumirpc.CreateRequest{Urn: testURN, Properties: mustMarshal(t, failing)})
	// The combined output interleaves stdout and stderr in the order they arrived.
	want := "Process exited with status 3: running \"echo o; echo e >&2; exit 3\":\n"
	if err == nil || !strings.HasPrefix(err.Error(), want) ||
		(!strings.HasSuffix(err.Error(), "\no\ne\n") && !strings.HasSuffix(err.Error(), "\ne\no\n")) {
		t.Errorf("error %v, want %q and the output", err, want)
	}
}
