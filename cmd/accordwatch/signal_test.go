package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/accordwatch/accordwatch/internal/pgtest"
)

// TestMain lets the test binary stand in for the real one: with
// ACCORDWATCH_RUN_MAIN=1 it runs main() itself, so signal handling is
// tested on a real process without a separate build.
func TestMain(m *testing.M) {
	if os.Getenv("ACCORDWATCH_RUN_MAIN") == "1" {
		os.Args = append([]string{"accordwatch"}, strings.Fields(os.Getenv("ACCORDWATCH_ARGS"))...)
		main()
		return
	}
	os.Exit(pgtest.Main(m))
}

func TestSIGTERMShutsServeDownCleanly(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			cfg := writeConfig(t, dir, "data_dir: data\nlisten: 127.0.0.1:0\nfeeds:\n  - name: local\n    url: testdata/news.rss\n")
			os.Symlink(mustAbs(t, "testdata"), filepath.Join(dir, "testdata"))
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), "ACCORDWATCH_RUN_MAIN=1", "ACCORDWATCH_ARGS=serve --config "+cfg)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			dataDir := filepath.Join(dir, "data")
			deadline := time.Now().Add(30 * time.Second)
			for {
				if o, ok := readOwner(dataDir); ok && o.PID == cmd.Process.Pid && o.Listen != "" {
					break
				}
				if time.Now().After(deadline) {
					cmd.Process.Kill()
					t.Fatalf("serve did not start:\n%s", stderr.String())
				}
				time.Sleep(20 * time.Millisecond)
			}
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			go func() { done <- cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("serve exited with %v after %v:\n%s", err, sig, stderr.String())
				}
			case <-time.After(30 * time.Second):
				cmd.Process.Kill()
				t.Fatalf("serve ignored %v:\n%s", sig, stderr.String())
			}
			if !strings.Contains(stderr.String(), "stopped cleanly") {
				t.Errorf("no clean-shutdown line in the log:\n%s", stderr.String())
			}
			if _, err := os.Stat(filepath.Join(dataDir, ownerFile)); !os.IsNotExist(err) {
				t.Errorf("owner file still there after shutdown (stat: %v)", err)
			}
			// The store and index closed cleanly: another process can own
			// them now and sees what was stored.
			if code, out, errOut := run(t, nil, "", "run", "--once", "--config", cfg); code != 0 {
				t.Fatalf("after shutdown, run --once: exit %d\n%s%s", code, out, errOut)
			}
			code, out, errOut := run(t, nil, "", "search", "--config", cfg, "--json", "state:china")
			if code != 0 || !strings.Contains(out, "Cisco") {
				t.Errorf("after shutdown: exit %d, %s%s", code, out, errOut)
			}
		})
	}
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
