package main

import (
	"bytes"
	"context"
	"flag"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestServeBaseURL(t *testing.T) {
	cases := []struct {
		addr, base, cert, key string
		want                  string // "" means an error is expected
	}{
		{addr: "127.0.0.1:8080", want: "http://localhost:8080"},
		{addr: "[::1]:9000", want: "http://localhost:9000"},
		{addr: "localhost:8080", base: "http://localhost:8080/", want: "http://localhost:8080"},
		{addr: "127.0.0.1:8443", cert: "c.pem", key: "k.pem", want: "https://localhost:8443"},
		// Behind a TLS proxy: any address, https base URL.
		{addr: "0.0.0.0:8080", base: "https://dfslab.example.org", want: "https://dfslab.example.org"},
		{addr: "0.0.0.0:8443", base: "https://lab.example.org:8443", cert: "c.pem", key: "k.pem", want: "https://lab.example.org:8443"},
		// Plain HTTP beyond loopback would send session cookies in clear.
		{addr: "0.0.0.0:8080"},
		{addr: "0.0.0.0:8080", base: "http://dfslab.example.org"},
		{addr: "127.0.0.1:8080", base: "http://dfslab.example.org"},
		// Malformed combinations.
		{addr: "127.0.0.1:8080", cert: "c.pem"},
		{addr: "127.0.0.1:8080", base: "ftp://localhost"},
		{addr: "127.0.0.1:8080", base: "https://example.org/sub/path"},
		{addr: "no-port"},
	}
	for _, c := range cases {
		got, err := serveBaseURL(serveConfig{addr: c.addr, baseURL: c.base, tlsCert: c.cert, tlsKey: c.key})
		if c.want == "" {
			if err == nil {
				t.Errorf("%+v: accepted as %q, want an error", c, got)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%+v: %q, %v; want %q", c, got, err, c.want)
		}
	}
}

func TestServeFlagsHaveEnvTwins(t *testing.T) {
	t.Setenv("DFSLAB_ADDR", "127.0.0.1:9999")
	t.Setenv("DFSLAB_LOG_FORMAT", "json")
	t.Setenv("DFSLAB_TRUST_PROXY", "true")
	var c serveConfig
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	serveFlags(fs, &c)
	if err := fs.Parse([]string{"--log-format", "text"}); err != nil {
		t.Fatal(err)
	}
	if err := applyEnv(fs); err != nil {
		t.Fatal(err)
	}
	if c.addr != "127.0.0.1:9999" || !c.trustProxy {
		t.Errorf("environment not applied: %+v", c)
	}
	if c.logFormat != "text" {
		t.Errorf("flag did not win over the environment: %q", c.logFormat)
	}
	// Every flag names its environment twin in its usage.
	fs.VisitAll(func(f *flag.Flag) {
		if twin := envName(f.Name); !strings.Contains(f.Usage, twin) {
			t.Errorf("flag --%s does not document %s", f.Name, envName(f.Name))
		}
	})
}

// TestServeRejectsBadEnvironment: an environment twin that does not parse
// stops serve and worker with an error naming the variable, where it used
// to become a zero (DFSLAB_JOBS=abc turned in-process scans off,
// DFSLAB_SHUTDOWN_TIMEOUT=20 gave no grace period; issue 15, bug 1).
func TestServeRejectsBadEnvironment(t *testing.T) {
	for _, c := range []struct {
		cmd, name, value string
	}{
		{"serve", "DFSLAB_JOBS", "abc"},
		{"serve", "DFSLAB_SHUTDOWN_TIMEOUT", "20"},
		{"serve", "DFSLAB_TRUST_PROXY", "yes please"},
		{"serve", "DFSLAB_MAX_BODY", "1MB"},
		{"worker", "DFSLAB_CONCURRENCY", "two"},
		{"worker", "DFSLAB_JOB_TIMEOUT", "30"},
	} {
		t.Run(c.cmd+" "+c.name, func(t *testing.T) {
			t.Setenv(c.name, c.value)
			var out, errb bytes.Buffer
			run := runServe
			if c.cmd == "worker" {
				run = runWorker
			}
			if code := run(context.Background(), nil, &out, &errb); code != 2 || !strings.Contains(errb.String(), c.name) {
				t.Fatalf("exit %d, stderr %q: want 2 naming %s", code, errb.String(), c.name)
			}
		})
	}
}

func TestServeRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"--log-format", "xml"},
		{"--addr", "0.0.0.0:8080"},
		{"extra"},
	} {
		var out, errb bytes.Buffer
		if code := runServe(context.Background(), args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d, want 2 (stderr %q)", args, code, errb.String())
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestServeStartsPrintsEnrolmentLinkAndShutsDown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out, errb syncBuffer
	done := make(chan int, 1)
	// Port 0: serve listens on a port the system chooses and names it, so
	// no other process can take a port between a probe and serve's listen.
	go func() {
		done <- runServe(ctx, []string{"--addr", "127.0.0.1:0", "--db", filepath.Join(t.TempDir(), "serve.db"), "--log-format", "json"}, &out, &errb)
	}()
	openRE := regexp.MustCompile(`open http://localhost:(\d+)/ in your browser`)
	var port string
	for i := 0; i < 200 && port == ""; i++ {
		if m := openRE.FindStringSubmatch(out.String()); m != nil {
			port = m[1]
		} else {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if port == "" || port == "0" {
		t.Fatalf("stdout does not name the address to open:\n%s\n%s", out.String(), errb.String())
	}
	addr := "127.0.0.1:" + port
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatalf("server did not answer: %v\n%s", err, errb.String())
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("/readyz: %d", resp.StatusCode)
	}
	if want := "http://localhost:" + port + "/enrol/"; !strings.Contains(out.String(), want) {
		t.Fatalf("no first-run enrolment link %s… on stdout:\n%s", want, out.String())
	}
	if strings.Contains(errb.String(), "/enrol/") {
		t.Fatal("the enrolment link leaked into the log")
	}
	// The address serve listens on leads to that one (passkeys are bound to it).
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if resp, err := noFollow.Get("http://" + addr + "/signin"); err != nil || resp.StatusCode != http.StatusTemporaryRedirect ||
		resp.Header.Get("Location") != "http://localhost:"+port+"/signin" {
		t.Fatalf("GET at the listening address: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d after shutdown:\n%s", code, errb.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("server did not shut down")
	}
	if !strings.Contains(errb.String(), `"msg":"stopped"`) {
		t.Errorf("no JSON shutdown log line:\n%s", errb.String())
	}
}
