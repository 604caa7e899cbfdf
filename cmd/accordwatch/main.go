// Command accordwatch is the single binary: the daemon (serve), one-shot
// passes (run --once), search, the classifier as a filter (classify),
// config checks, reindex and version. It only wires the packages together.
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := mainWith(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv, debug.SetMemoryLimit)
	stop()
	os.Exit(code)
}

// Main runs the command line and returns the exit code; tests call it
// directly with their own streams and environment.
func Main(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	return mainWith(ctx, args, stdin, stdout, stderr, getenv, nil)
}

// mainWith is Main plus the process-wide settings only the real binary may
// change (tests share one process).
func mainWith(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string, setMemoryLimit func(int64) int64) int {
	root := newRoot(&env{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv, setMemoryLimit: setMemoryLimit})
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "accordwatch:", err)
		if code, ok := err.(exitCode); ok {
			return code.code
		}
		return 1
	}
	return 0
}

// exitCode carries a specific exit status through cobra.
type exitCode struct {
	code int
	msg  string
}

func (e exitCode) Error() string { return e.msg }
