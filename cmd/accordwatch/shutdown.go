package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/accordwatch/accordwatch/monitor"
)

// Bounds on serve's shutdown steps. Together they stay well inside
// systemd's default 90 s stop timeout.
const (
	// defaultHTTPGrace lets requests in flight finish before their
	// connections are closed.
	defaultHTTPGrace = 5 * time.Second
	// defaultJobsGrace is how long cancelled jobs get to return.
	defaultJobsGrace = 10 * time.Second
	// defaultCloseGrace bounds closing Socket Mode and draining the
	// writer, each.
	defaultCloseGrace = 5 * time.Second
)

// listenHookKey is the context key of a hook that sees serve's listener
// once it is open. Only a test sets it (to close the listener and kill
// the API server); nothing on the command line or in the environment can.
type listenHookKey struct{}

// shutdown tears serve down in one fixed order, whatever ended it — a
// signal, the API server dying, or an error while starting:
//
//  1. stop accepting: HTTP Shutdown, so requests in flight finish
//     (httpGrace), then whatever is left is cut off;
//  2. cancel the jobs: the schedules (polls, outbox drain, periodic
//     jobs), the catch-up digest and Socket Mode;
//  3. wait for them (jobsGrace), naming what is still running;
//  4. close Socket Mode: its connection is closed and no slash command
//     is being answered;
//  5. drain the writer: what the polls handed the pipeline is committed,
//     or abandoned with the feed's state left to fetch it again;
//  6. close the index;
//  7. close the store (and release the data dir).
//
// serve fills the fields in as it starts things; close tears down what
// was started, in that order, and runs once, deferred right after the app
// is opened.
type shutdown struct {
	log *slog.Logger
	app *app
	// The bounds on the steps (the defaults above; tests shorten them).
	httpGrace, jobsGrace, closeGrace time.Duration
	// ln is the API's listener, closed directly when no server took it.
	ln  net.Listener
	srv *http.Server
	// served receives Serve's error; nil once it was received.
	served chan error

	cancelJobs context.CancelFunc
	sched      *monitor.Scheduler
	// tasks are the jobs besides the scheduler's (the catch-up digest);
	// socket is Socket Mode's, nil when it is off.
	tasks  []*task
	socket *task
}

func newShutdown(log *slog.Logger, a *app) *shutdown {
	return &shutdown{log: log, app: a, httpGrace: defaultHTTPGrace, jobsGrace: defaultJobsGrace, closeGrace: defaultCloseGrace}
}

// task is a job on its own goroutine; done is closed when it returns.
type task struct {
	name string
	done <-chan struct{}
}

func (t *task) finished() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// goTask runs fn on its own goroutine as a job shutdown waits for.
func goTask(name string, fn func()) *task {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	return &task{name: name, done: done}
}

// serve starts srv on ln (the listener wrapped as serve wants it).
func (sd *shutdown) serve(srv *http.Server, ln net.Listener) {
	sd.srv = srv
	sd.served = make(chan error, 1)
	go func() { sd.served <- srv.Serve(ln) }()
}

// close runs the teardown and returns cause joined with what went wrong
// in it: a Shutdown cut short, an index or store that failed to close.
func (sd *shutdown) close(cause error) error {
	log := sd.log
	var errs []error

	// 1. Stop accepting.
	switch {
	case sd.srv != nil:
		if err := sd.stopHTTP(); err != nil {
			errs = append(errs, err)
		}
	case sd.ln != nil:
		sd.ln.Close()
	}

	// 2. Cancel the jobs.
	for _, t := range sd.jobTasks() {
		if !t.finished() {
			log.Debug("cancelling", "job", t.name)
		}
	}
	if sd.cancelJobs != nil {
		sd.cancelJobs()
	}
	schedDone := context.Background()
	if sd.sched != nil {
		schedDone = sd.sched.Stop()
	}

	// 3. Wait for them.
	if sd.sched != nil || len(sd.tasks) > 0 {
		jobs := make([]*task, 0, len(sd.tasks)+1)
		if sd.sched != nil {
			jobs = append(jobs, &task{name: "schedules", done: schedDone.Done()})
		}
		jobs = append(jobs, sd.tasks...)
		if left := waitTasks(sd.jobsGrace, jobs); len(left) > 0 {
			var running []string
			if sd.sched != nil {
				running = sd.sched.Running()
			}
			log.Warn("jobs still running; going on without them", "after", sd.jobsGrace, "jobs", left, "schedules_running", running)
		} else {
			log.Info("jobs stopped")
		}
	}

	// 4. Close Socket Mode.
	if sd.socket != nil {
		if left := waitTasks(sd.closeGrace, []*task{sd.socket}); len(left) > 0 {
			log.Warn("Socket Mode still closing; going on without it", "after", sd.closeGrace)
		} else {
			log.Info("Socket Mode closed")
		}
	}

	// 5. Drain the writer.
	if sd.sched != nil {
		select {
		case <-sd.sched.Drained():
			log.Info("writer drained")
		case <-time.After(sd.closeGrace):
			log.Warn("writer still committing; closing the index and store under it (its feeds are fetched again next time)", "after", sd.closeGrace)
		}
	}

	// 6. Close the index.
	if err := sd.app.closeIndex(); err != nil {
		log.Error("close index", "err", err)
		errs = append(errs, fmt.Errorf("close index: %w", err))
	} else {
		log.Info("index closed")
	}

	// 7. Close the store.
	if err := sd.app.closeStore(); err != nil {
		log.Error("close store", "err", err)
		errs = append(errs, fmt.Errorf("close store: %w", err))
	} else {
		log.Info("store closed")
	}

	if err := errors.Join(append([]error{cause}, errs...)...); err != nil {
		log.Error("stopped", "err", err)
		return err
	}
	log.Info("stopped cleanly")
	return nil
}

// stopHTTP shuts the API server down: no new connections, requests in
// flight get httpGrace to finish, then their connections are closed. It
// returns once Serve has returned.
func (sd *shutdown) stopHTTP() error {
	ctx, cancel := context.WithTimeout(context.Background(), sd.httpGrace)
	defer cancel()
	err := sd.srv.Shutdown(ctx)
	if err != nil {
		sd.log.Error("API requests still running; closing their connections", "after", sd.httpGrace, "err", err)
		sd.srv.Close()
		err = fmt.Errorf("stop the API server: %w", err)
	}
	if sd.served != nil {
		// Serve returns ErrServerClosed as soon as Shutdown starts; anything
		// else means it died on its own meanwhile.
		if serr := <-sd.served; !errors.Is(serr, http.ErrServerClosed) {
			sd.log.Error("API server stopped", "err", serr)
			err = errors.Join(err, fmt.Errorf("API server stopped: %w", serr))
		}
		sd.served = nil
	}
	if err == nil {
		sd.log.Info("stopped accepting API requests; those in flight finished")
	}
	return err
}

// jobTasks are the tasks cancelled in step 2.
func (sd *shutdown) jobTasks() []*task {
	if sd.socket == nil {
		return sd.tasks
	}
	return append(sd.tasks[:len(sd.tasks):len(sd.tasks)], sd.socket)
}

// waitTasks waits up to d for every task and returns the names of those
// still running.
func waitTasks(d time.Duration, tasks []*task) []string {
	timer := time.NewTimer(d)
	defer timer.Stop()
	for _, t := range tasks {
		select {
		case <-t.done:
		case <-timer.C:
			var left []string
			for _, t := range tasks {
				if !t.finished() {
					left = append(left, t.name)
				}
			}
			return left
		}
	}
	return nil
}
