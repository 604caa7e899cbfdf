// Package pgtest starts a throwaway PostgreSQL cluster for tests: initdb in
// a temporary directory, the server on a random loopback port with fsync
// off, one fresh database per test, and everything removed when the
// package's tests end.
//
// Use it from TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// and call pgtest.Database(t) in each test that needs a database. The
// cluster starts on the first call, once per test binary. When no server
// can be started (no PostgreSQL installed) the test is skipped with the
// reason, unless ACCORDWATCH_TEST_PG_REQUIRED is set (CI sets it): then it
// fails, so a broken setup never passes as skipped.
//
// The server binaries are found in ACCORDWATCH_TEST_PG_BIN, else the
// newest /usr/lib/postgresql/*/bin, else on PATH. Debian's server refuses
// to run as root, so under root the cluster is owned by and run as the
// "postgres" user.
package pgtest

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// Environment variables the helper reads.
const (
	EnvBin      = "ACCORDWATCH_TEST_PG_BIN"
	EnvRequired = "ACCORDWATCH_TEST_PG_REQUIRED"
)

var (
	once    sync.Once
	cluster *Cluster
	failure error
	dbSeq   atomic.Int64
)

// Cluster is a running throwaway server.
type Cluster struct {
	Dir  string
	Port int
	bin  string
	cred *syscall.Credential
	proc *exec.Cmd
	done chan struct{}
	// settings are the Options.Settings the server starts with.
	settings []string
}

// Main runs the package's tests and then stops the cluster, if one was
// started. It returns m.Run's code.
func Main(m *testing.M) int {
	code := m.Run()
	if cluster != nil {
		cluster.Stop()
	}
	return code
}

// Database creates a fresh, empty database on the package's cluster and
// returns its URL (no password: the cluster trusts loopback). It skips the
// test when no server can be started (see the package doc).
func Database(t testing.TB) string {
	t.Helper()
	c := Shared(t)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbSeq.Add(1))
	if err := c.CreateDatabase(name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return c.URL(name)
}

// CreateDatabase creates database name in the cluster.
func (c *Cluster) CreateDatabase(name string) error {
	if out, err := c.run("createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres", name); err != nil {
		return fmt.Errorf("createdb %s: %v\n%s", name, err, out)
	}
	return nil
}

// Shared returns the package's cluster, starting it on the first call.
func Shared(t testing.TB) *Cluster {
	t.Helper()
	once.Do(func() { cluster, failure = Start() })
	if failure != nil {
		if os.Getenv(EnvRequired) != "" {
			t.Fatalf("pgtest: %s is set but no PostgreSQL server could be started: %v", EnvRequired, failure)
		}
		t.Skipf("PostgreSQL tests skipped: no server could be started: %v (install Debian's postgresql package or set %s)", failure, EnvBin)
	}
	return cluster
}

// URL is the address of database name on the cluster.
func (c *Cluster) URL(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, name)
}

// binDir finds the server's binaries.
func binDir() (string, error) {
	if d := os.Getenv(EnvBin); d != "" {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err != nil {
			return "", fmt.Errorf("%s=%s: %w", EnvBin, d, err)
		}
		return d, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", errors.New("no initdb found")
}

func version(dir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(dir)))
	return n
}

// Options shape a cluster that StartWith starts.
type Options struct {
	// Parent is the directory the cluster's directory is made in; default
	// the temporary directory. Run as root, the postgres user must be able
	// to traverse it.
	Parent string
	// Settings are server settings ("name=value") given after the
	// defaults, which they override: durability off (throwaway data),
	// shared_buffers=32MB and max_connections=200 (many tiny test
	// databases). A benchmark gives a search database more.
	Settings []string
}

// Start initialises and starts a new cluster with the test defaults.
// Callers own it and must Stop it; tests use Shared or Database instead.
func Start() (*Cluster, error) { return StartWith(Options{}) }

// StartWith initialises and starts a new cluster. Callers own it and must
// Stop it.
func StartWith(o Options) (*Cluster, error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	parent := o.Parent
	if parent == "" {
		parent = os.TempDir()
		if fi, err := os.Stat(parent); os.Geteuid() == 0 && (err != nil || fi.Mode().Perm()&0o001 == 0) {
			// The server, not root, must be able to reach the directory.
			parent = "/tmp"
		}
	}
	dir, err := os.MkdirTemp(parent, "accordwatch-pgtest-")
	if err != nil {
		return nil, err
	}
	c := &Cluster{Dir: dir, bin: bin, done: make(chan struct{}), settings: o.Settings}
	if os.Geteuid() == 0 {
		// The server refuses root: the cluster belongs to "postgres".
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root and no postgres user to run the server as: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := c.run("initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale", "C"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	for attempt := 0; ; attempt++ {
		err := c.startServer(data)
		if err == nil {
			return c, nil
		}
		if attempt == 2 {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

// startServer runs postgres in the foreground as a child, on a free port.
// The child gets SIGQUIT (immediate shutdown) if the test process dies, so
// a killed test run leaves no server behind.
func (c *Cluster) startServer(data string) error {
	port, err := freePort()
	if err != nil {
		return err
	}
	logPath := filepath.Join(c.Dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logFile.Close()
	if c.cred != nil {
		os.Chown(logPath, int(c.cred.Uid), int(c.cred.Gid))
	}
	args := []string{"-D", data, "-p", strconv.Itoa(port), "-k", c.Dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "max_connections=200", "-c", "shared_buffers=32MB"}
	for _, set := range c.settings {
		args = append(args, "-c", set)
	}
	cmd := exec.Command(filepath.Join(c.bin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.proc, c.Port = cmd, port
	c.done = make(chan struct{})
	go func() { cmd.Wait(); close(c.done) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited at start:\n%s", tail(log))
		default:
		}
		if _, err := c.run("pg_isready", "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(port)); err == nil {
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.Stop()
	log, _ := os.ReadFile(logPath)
	return fmt.Errorf("postgres did not accept connections within 30s:\n%s", tail(log))
}

func tail(b []byte) string {
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// run runs one of the server's programs as the cluster's owner.
func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	cmd := exec.Command(filepath.Join(c.bin, name), args...)
	cmd.Dir = c.Dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=5")
	return cmd.CombinedOutput()
}

// Kill stops the server at once (SIGQUIT: immediate shutdown), as a crash
// would, without removing its files.
func (c *Cluster) Kill() {
	if c.proc == nil {
		return
	}
	c.proc.Process.Signal(syscall.SIGQUIT)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		c.proc.Process.Kill()
		<-c.done
	}
}

// Stop kills the server and removes the cluster's files.
func (c *Cluster) Stop() {
	c.Kill()
	os.RemoveAll(c.Dir)
}

// String names the cluster for test logs.
func (c *Cluster) String() string {
	return fmt.Sprintf("postgres on 127.0.0.1:%d (%s)", c.Port, c.Dir)
}
