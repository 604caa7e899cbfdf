package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// pgBin is where Debian's PostgreSQL 15 server binaries live.
const pgBin = "/usr/lib/postgresql/15/bin"

// pgCluster is a throwaway PostgreSQL server for the side-by-side
// benchmark: initdb in a temporary directory, the server on a random
// loopback port, the same approach as internal/pgtest but with settings a
// competent engineer would give a search database (pgtest's are for many
// tiny test databases).
type pgCluster struct {
	dir  string
	port int
	cred *syscall.Credential // the postgres user's, when run as root
	proc *exec.Cmd
	done chan struct{}
}

// startPG initialises and starts a cluster under parent. The caller must
// stop it.
func startPG(ctx context.Context, parent string, sharedBuffers string) (*pgCluster, error) {
	if _, err := os.Stat(filepath.Join(pgBin, "initdb")); err != nil {
		return nil, fmt.Errorf("postgresql 15 server: %w", err)
	}
	dir, err := os.MkdirTemp(parent, "benchgen-pg-")
	if err != nil {
		return nil, fmt.Errorf("cluster dir: %w", err)
	}
	c := &pgCluster{dir: dir}
	if os.Geteuid() == 0 {
		// The server refuses to run as root: the cluster belongs to
		// "postgres", and every directory above it must be traversable.
		u, err := user.Lookup("postgres")
		if err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("running as root and no postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			os.RemoveAll(dir)
			return nil, fmt.Errorf("chown cluster dir: %w", err)
		}
		for p := parent; p != "/" && p != "."; p = filepath.Dir(p) {
			if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o001 == 0 {
				os.RemoveAll(dir)
				return nil, fmt.Errorf("%s is not traversable by the postgres user; pick another -pgdir", p)
			}
		}
	}
	data := filepath.Join(dir, "data")
	if out, err := c.run(ctx, "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8", "--locale", "C"); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	if err := c.start(ctx, data, sharedBuffers); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	return c, nil
}

func (c *pgCluster) start(ctx context.Context, data, sharedBuffers string) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("free port: %w", err)
	}
	c.port = l.Addr().(*net.TCPAddr).Port
	l.Close()
	logPath := filepath.Join(c.dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return fmt.Errorf("server log: %w", err)
	}
	defer logFile.Close()
	if c.cred != nil {
		_ = os.Chown(logPath, int(c.cred.Uid), int(c.cred.Gid))
	}
	// Durability is off (a benchmark load, as pgtest does); the rest is
	// read tuning: buffers that hold the hot partitions, no JIT (it costs
	// short queries tens of milliseconds), SSD page costs, parallel
	// workers for the 2 cores.
	args := []string{"-D", data, "-p", strconv.Itoa(c.port), "-k", c.dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
		"-c", "full_page_writes=off", "-c", "shared_buffers=" + sharedBuffers,
		"-c", "effective_cache_size=12GB", "-c", "work_mem=64MB", "-c", "maintenance_work_mem=1GB",
		"-c", "max_wal_size=8GB", "-c", "jit=off", "-c", "random_page_cost=1.1",
		"-c", "max_parallel_workers_per_gather=2", "-c", "max_parallel_maintenance_workers=2"}
	cmd := exec.Command(filepath.Join(pgBin, "postgres"), args...)
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// SIGQUIT (immediate shutdown) if benchgen dies, so no server outlives it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred, Pdeathsig: syscall.SIGQUIT, Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start postgres: %w", err)
	}
	c.proc, c.done = cmd, make(chan struct{})
	go func() { cmd.Wait(); close(c.done) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-c.done:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("postgres exited at start:\n%s", log)
		case <-ctx.Done():
			c.stop()
			return ctx.Err()
		default:
		}
		if _, err := c.run(ctx, "pg_isready", "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(c.port)); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	c.stop()
	return errors.New("postgres did not accept connections within 60s")
}

// url is the address of database name.
func (c *pgCluster) url(name string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.port, name)
}

func (c *pgCluster) createdb(ctx context.Context, name string) error {
	if out, err := c.run(ctx, "createdb", "-h", "127.0.0.1", "-p", strconv.Itoa(c.port), "-U", "postgres", name); err != nil {
		return fmt.Errorf("createdb %s: %w\n%s", name, err, out)
	}
	return nil
}

// run runs one of the server's programs as the cluster's owner.
func (c *pgCluster) run(ctx context.Context, name string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, filepath.Join(pgBin, name), args...)
	cmd.Dir = c.dir
	if c.cred != nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: c.cred}
	}
	cmd.Env = append(os.Environ(), "PGCONNECT_TIMEOUT=5")
	return cmd.CombinedOutput()
}

// stop shuts the server down at once; remove deletes its files too.
func (c *pgCluster) stop() {
	if c.proc == nil {
		return
	}
	_ = c.proc.Process.Signal(syscall.SIGQUIT)
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		_ = c.proc.Process.Kill()
		<-c.done
	}
	c.proc = nil
}

func (c *pgCluster) remove() {
	c.stop()
	os.RemoveAll(c.dir)
}
