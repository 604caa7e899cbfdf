package main

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/accordwatch/accordwatch"
	"github.com/accordwatch/accordwatch/config"
	"github.com/accordwatch/accordwatch/index"
	"github.com/accordwatch/accordwatch/monitor"
	"github.com/spf13/cobra"
)

const version = "0.1.0"

// env is the process environment a command runs in.
type env struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	// setMemoryLimit is debug.SetMemoryLimit in the real binary, nil in
	// tests.
	setMemoryLimit func(int64) int64

	// Global flags.
	configPath string
	dataDir    string
	logLevel   string
}

func (e *env) logger() *slog.Logger {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(e.logLevel)); err != nil {
		lvl = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(e.stderr, &slog.HandlerOptions{Level: lvl}))
}

func checks() config.Checks {
	return config.Checks{
		Query: func(q string) error {
			_, err := index.Parse(q)
			return err
		},
		Schedule: monitor.ValidateSchedule,
	}
}

// loadConfig reads --config. Without the flag, ./config.yaml is used when
// present, else the embedded defaults, so the daemon always starts.
func (e *env) loadConfig(cmd *cobra.Command) (*config.Config, error) {
	opts := config.Options{Getenv: e.getenv, Checks: checks()}
	var cfg *config.Config
	var err error
	explicit := cmd.Flags().Changed("config")
	if _, statErr := os.Stat(e.configPath); !explicit && errors.Is(statErr, os.ErrNotExist) {
		cwd, _ := os.Getwd()
		cfg, err = config.Parse(accordwatch.DefaultConfig, "embedded config.yaml", cwd, opts)
	} else {
		cfg, err = config.Load(e.configPath, opts)
	}
	if err != nil {
		return nil, err
	}
	if e.dataDir != "" {
		abs, err := filepath.Abs(e.dataDir)
		if err != nil {
			return nil, err
		}
		cfg.DataDir = abs
	}
	return cfg, nil
}

func newRoot(e *env) *cobra.Command {
	root := &cobra.Command{
		Use:           "accordwatch",
		Short:         "Watch security news for Tech Accord signatories and state-linked attacks",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       version,
	}
	root.PersistentFlags().StringVar(&e.configPath, "config", "config.yaml", "config file")
	root.PersistentFlags().StringVar(&e.dataDir, "data-dir", "", "data directory (overrides data_dir in the config)")
	root.PersistentFlags().StringVar(&e.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	root.AddCommand(
		serveCmd(e), runCmd(e), searchCmd(e), classifyCmd(e), checkConfigCmd(e),
		reindexCmd(e), evalCmd(e), dictCmd(e), feedsCmd(e), silenceCmd(e), rulesCmd(e), digestCmd(e), versionCmd(e), migrateCmd(e),
		incidentsCmd(e),
	)
	return root
}

func versionCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(e.stdout, "accordwatch %s\n", version)
			return nil
		},
	}
}

func checkConfigCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "check-config [path]",
		Short: "Validate a config file and report every problem with file, line and field",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				e.configPath = args[0]
				cmd.Flags().Set("config", args[0])
			}
			cfg, err := e.loadConfig(cmd)
			if err != nil {
				var ps config.Problems
				if errors.As(err, &ps) {
					fmt.Fprintln(e.stderr, ps.Error())
					return exitCode{1, fmt.Sprintf("%d problem(s) in the config", len(ps))}
				}
				return err
			}
			fmt.Fprintf(e.stdout, "%s: OK — %d feeds, %d rules (%d watch-lists), data_dir %s\n", cfg.Path, len(cfg.FeedList()), len(cfg.RuleList()), len(cfg.Watch), cfg.DataDir)
			switch {
			case cfg.Slack.BotToken.IsSet():
				fmt.Fprintf(e.stdout, "slack: bot token set; alerts go to %s\n", orDefault(cfg.Slack.Channel, "each rule's channel"))
			case cfg.Slack.WebhookURL.IsSet():
				fmt.Fprintln(e.stdout, "slack: incoming webhook set (no threads or updates; set SLACK_BOT_TOKEN for those)")
			default:
				fmt.Fprintf(e.stdout, "slack: no SLACK_BOT_TOKEN or SLACK_WEBHOOK_URL; alerts go to the log and %s\n", filepath.Join(cfg.DataDir, "alerts.jsonl"))
			}
			for _, w := range cfg.Warnings() {
				fmt.Fprintln(e.stdout, "warning: "+w)
			}
			return nil
		},
	}
}

func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// applyMemoryLimit sets the Go runtime's soft memory limit from the config
// unless GOMEMLIMIT is set: the store and index are memory-mapped, so
// heap growth left to GOGC alone pushes the daemon's RSS well past what
// its work needs (see BENCHMARKS.md).
func (e *env) applyMemoryLimit(cfg *config.Config) {
	if e.setMemoryLimit == nil || e.getenv("GOMEMLIMIT") != "" {
		return
	}
	e.setMemoryLimit(int64(cfg.MemoryLimitMB) << 20)
}
