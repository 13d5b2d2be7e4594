package blob_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dfslab/dfslab/internal/blob"
)

// spoolChildEnv makes the test binary a process that spools an upload
// that never ends into the folder named there, prints the temporary
// file's name and waits to be killed, as `dfslab serve` is by kill -9
// in the middle of an upload.
const spoolChildEnv = "DFSLAB_BLOB_TEST_SPOOL_DIR"

func TestMain(m *testing.M) {
	if dir := os.Getenv(spoolChildEnv); dir != "" {
		r, w, err := os.Pipe()
		if err != nil {
			os.Exit(1)
		}
		w.Write([]byte("%PDF-1.7\n"))
		go blob.Spool(r, "upload.pdf", blob.Policy{MaxSize: 1 << 30, Allowed: blob.EvidenceTypes()}, dir)
		for {
			if ms, _ := filepath.Glob(filepath.Join(dir, "dfslab-blob-*")); len(ms) == 1 {
				os.Stdout.WriteString(ms[0] + "\n")
				select {}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	os.Exit(m.Run())
}

// TestCleanTempAfterKill: a process killed in the middle of an upload
// leaves its temporary file; CleanTemp removes it once it is older than
// the age given, and leaves alone fresh uploads (another process's, in
// progress), other programs' files and anything that is not a regular
// file.
func TestCleanTempAfterKill(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), spoolChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		t.Fatalf("child: %v", err)
	}
	left := strings.TrimSpace(line)
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	cmd.Wait()
	if _, err := os.Stat(left); err != nil {
		t.Fatalf("the killed upload left no file (%v); the test proves nothing", err)
	}

	now := time.Now()
	old := now.Add(-3 * time.Hour)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.Chtimes(left, old, old))
	fresh := filepath.Join(dir, "dfslab-blob-123456")
	must(os.WriteFile(fresh, []byte("in progress"), 0o600))
	foreign := filepath.Join(dir, "other-program-tmp")
	must(os.WriteFile(foreign, nil, 0o600))
	must(os.Chtimes(foreign, old, old))
	sub := filepath.Join(dir, "dfslab-blob-dir")
	must(os.Mkdir(sub, 0o700))
	must(os.Chtimes(sub, old, old))

	n, err := blob.CleanTemp(dir, blob.StaleTemp, now)
	must(err)
	if n != 1 {
		t.Errorf("removed %d files, want 1", n)
	}
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("the dead upload's file is still there: %v", err)
	}
	for _, keep := range []string{fresh, foreign, sub} {
		if _, err := os.Stat(keep); err != nil {
			t.Errorf("%s removed: %v", filepath.Base(keep), err)
		}
	}
}
