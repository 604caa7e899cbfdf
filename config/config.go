package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/accordwatch/accordwatch"
	"go.yaml.in/yaml/v3"
)

// Config is the whole of config.yaml after defaults, environment overrides
// and validation.
type Config struct {
	// DataDir holds the store, the index and alert files. Relative paths
	// resolve against the config file's folder.
	DataDir string `yaml:"data_dir"`
	// Timezone is an IANA zone for the digest and for display; feed
	// schedules always run in UTC.
	Timezone string `yaml:"timezone"`
	// Listen is the HTTP address of serve's API.
	Listen string `yaml:"listen"`
	// AllowedHosts are extra Host names the API and pages answer (besides
	// IP literals, localhost and the listen host): the names a reverse
	// proxy or users reach the daemon by. Others get 421, so a DNS
	// rebinding page cannot read the API.
	AllowedHosts []string `yaml:"allowed_hosts"`
	// APIToken (ACCORDWATCH_API_TOKEN) protects the API and pages; never
	// read from the file.
	APIToken accordwatch.Secret `yaml:"-"`
	// DefaultSchedule applies to feeds without their own.
	DefaultSchedule string   `yaml:"default_schedule"`
	Fetch           Fetch    `yaml:"fetch"`
	Polling         Polling  `yaml:"polling"`
	Feeds           []Feed   `yaml:"feeds"`
	Slack           Slack    `yaml:"slack"`
	Rules           []Rule   `yaml:"rules"`
	Watch           []Watch  `yaml:"watch"`
	Dictionaries    []string `yaml:"dictionaries"`
	Alerting        Alerting `yaml:"alerting"`
	Webhook         Webhook  `yaml:"-"`
	Digest          Digest   `yaml:"digest"`
	// MemoryLimitMB is the Go runtime's soft memory limit for the daemon
	// (GOMEMLIMIT wins when set); 0 means the default, 100.
	MemoryLimitMB int            `yaml:"memory_limit_mb"`
	Location      *time.Location `yaml:"-"`
	// Path is the file this config came from ("" for embedded defaults).
	Path string `yaml:"-"`
}

// Fetch tunes the HTTP fetcher.
type Fetch struct {
	Timeout     Duration `yaml:"timeout"`
	MaxBodyMB   int      `yaml:"max_body_mb"`
	UserAgent   string   `yaml:"user_agent"`
	Concurrency int      `yaml:"concurrency"`
	// AllowPrivateNetworks lets feeds, discovery and redirects reach
	// loopback, private and link-local addresses. Off by default: a
	// feed (or a redirect it serves) must not turn the daemon into a
	// proxy into the network it runs in.
	AllowPrivateNetworks bool `yaml:"allow_private_networks"`
	// ArticleThreshold is the feed text length (characters) below which a
	// feed with `article: auto` fetches the item's web page for the whole
	// story; default 600.
	ArticleThreshold int `yaml:"article_threshold"`
	// ArticleWait is how long a poll waits for its articles before it
	// stores and alerts without them; a later article updates the item
	// and the incident's message. Default 15s.
	ArticleWait Duration `yaml:"article_wait"`
}

// Polling bounds how often feeds are polled, whatever schedules and
// servers' hints say, and when a failing feed is reported.
type Polling struct {
	MinInterval Duration `yaml:"min_interval"`
	MaxInterval Duration `yaml:"max_interval"`
	MaxBackoff  Duration `yaml:"max_backoff"`
	// PerHost caps concurrent fetches to one host.
	PerHost int `yaml:"per_host"`
	// UnhealthyAfter is how long a feed fails before one ops message.
	UnhealthyAfter Duration `yaml:"unhealthy_after"`
	// LeasePeriod is, for replicas sharing a database, how long a feed's
	// lease lasts without renewal: how soon a dead replica's feeds go to
	// the others. Its alerts being posted wait twice as long.
	LeasePeriod Duration `yaml:"lease_period"`
}

// Feed is one configured source.
// Header values may be written as ${ENV_VAR} (the whole value or part of
// it), so a private feed's credentials need not sit in the file.
type Feed struct {
	Name      string            `yaml:"name"`
	URL       string            `yaml:"url"`
	Schedule  string            `yaml:"schedule"`
	Tags      []string          `yaml:"tags"`
	UserAgent string            `yaml:"user_agent"`
	Headers   map[string]string `yaml:"headers"`
	Disabled  bool              `yaml:"disabled"`
	// MinInterval keeps this feed from being polled more often.
	MinInterval Duration `yaml:"min_interval"`
	// Article is when to fetch the item's web page and use its article:
	// auto (when the feed's text is shorter than fetch.article_threshold;
	// the default for http(s) feeds), always, or never (the default for
	// local files and directories).
	Article string `yaml:"article"`
}

// Slack holds non-secret Slack settings; the token and webhook URL come
// only from the environment.
type Slack struct {
	Channel string `yaml:"channel"`
	// OpsChannel receives feed-health messages; default Channel.
	OpsChannel string `yaml:"ops_channel"`
	APIURL     string `yaml:"api_url"`
	// BotToken and WebhookURL are filled from SLACK_BOT_TOKEN and
	// SLACK_WEBHOOK_URL; they are never read from the file.
	BotToken   accordwatch.Secret `yaml:"-"`
	WebhookURL accordwatch.Secret `yaml:"-"`
	// AppToken (SLACK_APP_TOKEN, xapp-…) turns on /accord over Socket
	// Mode; SigningSecret (SLACK_SIGNING_SECRET) the signed HTTP endpoint
	// /slack/commands.
	AppToken      accordwatch.Secret `yaml:"-"`
	SigningSecret accordwatch.Secret `yaml:"-"`
}

// Digest configures the weekly report.
type Digest struct {
	// Schedule is a cron spec in the configured time zone; default
	// "0 9 * * MON".
	Schedule string `yaml:"schedule"`
	// Channel receives the digest; default slack.channel.
	Channel string `yaml:"channel"`
	// BaseURL is the web UI's public address, for links in the digest.
	BaseURL string `yaml:"base_url"`
	// Sections are saved searches shown with their count and top hits.
	Sections []DigestSection `yaml:"sections"`
}

// DigestSection is a user's saved search in the digest.
type DigestSection struct {
	Name  string `yaml:"name"`
	Query string `yaml:"query"`
}

// Webhook is the generic JSON webhook for users not on Slack; both values
// come from the environment (ACCORDWATCH_WEBHOOK_URL,
// ACCORDWATCH_WEBHOOK_SECRET).
type Webhook struct {
	URL    accordwatch.Secret `yaml:"-"`
	Secret accordwatch.Secret `yaml:"-"`
}

// Rule is an alert rule as written in the file.
type Rule struct {
	Name        string `yaml:"name"`
	Query       string `yaml:"query"`
	Channel     string `yaml:"channel"`
	MinSeverity int    `yaml:"min_severity"`
	// RepeatInterval: follow-ups of an incident go to its thread, and are
	// broadcast to the channel too once this long passed; default 24h.
	RepeatInterval Duration `yaml:"repeat_interval"`
	// RateCap is the most new-incident messages per hour on the channel;
	// the rest become one summary message. 0 = no cap.
	RateCap int `yaml:"rate_cap"`
}

// Watch subscribes a channel to signatories, actors, states or keywords
// without writing a query; it becomes a rule.
type Watch struct {
	Channel     string   `yaml:"channel"`
	Signatories []string `yaml:"signatories"`
	Actors      []string `yaml:"actors"`
	States      []string `yaml:"states"`
	Keywords    []string `yaml:"keywords"`
	MinSeverity int      `yaml:"min_severity"`
	RateCap     int      `yaml:"rate_cap"`
}

// Query is the watch-list as a query in the query language.
func (w Watch) Query() string {
	var parts []string
	add := func(field string, vals []string) {
		for _, v := range vals {
			if v = strings.TrimSpace(v); v == "" {
				continue
			}
			if field == "" {
				parts = append(parts, accordwatch.QuoteValue(v))
			} else {
				parts = append(parts, field+":"+accordwatch.QuoteValue(v))
			}
		}
	}
	add("signatory", w.Signatories)
	add("actor", w.Actors)
	add("state", w.States)
	add("", w.Keywords)
	return strings.Join(parts, " OR ")
}

// Alerting tunes delivery.
type Alerting struct {
	// MaxRetryWait bounds how long a pass waits on Slack's Retry-After
	// before leaving the alert in the outbox for the next pass.
	MaxRetryWait Duration `yaml:"max_retry_wait"`
	// IncidentWindow is how long after its last report a story can still
	// gain sources; default 120h (see EVAL.md, incident clustering).
	IncidentWindow Duration `yaml:"incident_window"`
	// Similarity (0..1) is the score two reports without a shared link
	// need to be the same incident; 0 = the clusterer's tuned default
	// (incident.DefaultThreshold; its precision and recall are in EVAL.md).
	Similarity float64 `yaml:"similarity"`
}

// Duration is a time.Duration written as "30s" or "15m" in YAML.
type Duration struct{ time.Duration }

// UnmarshalYAML parses Go duration syntax. A bad value decodes as zero:
// the validator's walk has already reported it with its line, and failing
// here would stop the decoder before it reports anything else.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	d.Duration, _ = parseDuration(n)
	return nil
}

func parseDuration(n *yaml.Node) (time.Duration, error) {
	if n.Kind != yaml.ScalarNode {
		return 0, fmt.Errorf("must be a duration such as 30s or 15m")
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return 0, fmt.Errorf("must be a duration such as 30s or 15m, got %q", n.Value)
	}
	return v, nil
}

// Checks are validations that need other packages (the query parser, the
// cron parser); cmd supplies them so config stays free of those imports.
type Checks struct {
	Query    func(q string) error
	Schedule func(spec string) error
}

// Options control Load.
type Options struct {
	// Getenv reads the environment; os.Getenv when nil.
	Getenv func(string) string
	Checks Checks
}

// Problem is one thing wrong with a config file.
type Problem struct {
	File  string
	Line  int
	Field string
	Msg   string
}

func (p Problem) Error() string {
	loc := p.File
	if p.Line > 0 {
		loc = fmt.Sprintf("%s:%d", p.File, p.Line)
	}
	if p.Field == "" {
		return fmt.Sprintf("%s: %s", loc, p.Msg)
	}
	return fmt.Sprintf("%s: %s: %s", loc, p.Field, p.Msg)
}

// Problems is every problem found in one file, in line order.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// secretKeys may never appear in the file: each names its variable.
var secretKeys = map[string]string{
	"bot_token":      "SLACK_BOT_TOKEN",
	"token":          "SLACK_BOT_TOKEN",
	"webhook_url":    "SLACK_WEBHOOK_URL",
	"webhook":        "SLACK_WEBHOOK_URL",
	"app_token":      "SLACK_APP_TOKEN",
	"signing_secret": "SLACK_SIGNING_SECRET",
	"secret":         "ACCORDWATCH_WEBHOOK_SECRET",
}

// MaxFileSize bounds a config file: a thousand feeds take about 150 KB.
const MaxFileSize = 8 << 20

// Load reads and validates the file at path.
func Load(path string, opts Options) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path, filepath.Dir(abs), opts)
}

// Parse validates config bytes. name labels errors; baseDir resolves
// relative paths.
func Parse(data []byte, name, baseDir string, opts Options) (*Config, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if len(data) > MaxFileSize {
		return nil, Problems{{File: name, Msg: fmt.Sprintf("file is larger than %d MiB", MaxFileSize>>20)}}
	}
	v := &validator{file: name, lines: map[string]int{}}
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, Problems{{File: name, Msg: "file is empty"}}
		}
		return nil, Problems{v.yamlProblem(err)}
	}
	doc := &root
	if doc.Kind == yaml.DocumentNode && len(doc.Content) == 1 {
		doc = doc.Content[0]
	}
	if doc.Kind != yaml.MappingNode {
		return nil, Problems{{File: name, Line: doc.Line, Msg: "top level must be a mapping of settings"}}
	}
	cfg := &Config{Path: name}
	v.walk(doc, reflect.TypeOf(*cfg), "")
	if err := doc.Decode(cfg); err != nil {
		var te *yaml.TypeError
		if errors.As(err, &te) {
			for _, e := range te.Errors {
				v.problems = append(v.problems, v.yamlProblem(errors.New(e)))
			}
		} else {
			v.problems = append(v.problems, v.yamlProblem(err))
		}
	}
	applyEnv(cfg, opts.Getenv)
	v.expandHeaders(cfg, opts.Getenv)
	applyDefaults(cfg, baseDir)
	v.validate(cfg, opts.Checks)
	if len(v.problems) > 0 {
		sort.SliceStable(v.problems, func(i, j int) bool { return v.problems[i].Line < v.problems[j].Line })
		return nil, v.problems
	}
	return cfg, nil
}

// Default values, documented in config.yaml.
const (
	DefaultSchedule = "@every 15m"
	DefaultListen   = "127.0.0.1:8080"
	DefaultAPIURL   = "https://slack.com/api/"
	// DefaultArticleThreshold is fetch.article_threshold's default: feed
	// text shorter than this (a headline and a sentence or two) makes an
	// `article: auto` feed fetch the item's page.
	DefaultArticleThreshold = 600
	// DefaultArticleWait is fetch.article_wait's default: long enough for
	// a news page, short enough for an alert.
	DefaultArticleWait = 15 * time.Second
)

func applyEnv(cfg *Config, getenv func(string) string) {
	if v := getenv("SLACK_BOT_TOKEN"); v != "" {
		cfg.Slack.BotToken = accordwatch.Secret(v)
	}
	if v := getenv("SLACK_WEBHOOK_URL"); v != "" {
		cfg.Slack.WebhookURL = accordwatch.Secret(v)
	}
	if v := getenv("SLACK_CHANNEL"); v != "" {
		cfg.Slack.Channel = v
	}
	if v := getenv("SLACK_API_URL"); v != "" {
		cfg.Slack.APIURL = v
	}
	cfg.Slack.AppToken = accordwatch.Secret(getenv("SLACK_APP_TOKEN"))
	cfg.Slack.SigningSecret = accordwatch.Secret(getenv("SLACK_SIGNING_SECRET"))
	cfg.APIToken = accordwatch.Secret(getenv("ACCORDWATCH_API_TOKEN"))
	cfg.Webhook.URL = accordwatch.Secret(getenv("ACCORDWATCH_WEBHOOK_URL"))
	cfg.Webhook.Secret = accordwatch.Secret(getenv("ACCORDWATCH_WEBHOOK_SECRET"))
}

func applyDefaults(cfg *Config, baseDir string) {
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
	cfg.DataDir = resolve(baseDir, cfg.DataDir)
	if cfg.Timezone == "" {
		cfg.Timezone = "UTC"
	}
	if cfg.Listen == "" {
		cfg.Listen = DefaultListen
	}
	if cfg.DefaultSchedule == "" {
		cfg.DefaultSchedule = DefaultSchedule
	}
	if cfg.Fetch.Timeout.Duration == 0 {
		cfg.Fetch.Timeout.Duration = 30 * time.Second
	}
	if cfg.Fetch.MaxBodyMB == 0 {
		cfg.Fetch.MaxBodyMB = 10
	}
	if cfg.Fetch.Concurrency == 0 {
		cfg.Fetch.Concurrency = 8
	}
	if cfg.Fetch.ArticleThreshold == 0 {
		cfg.Fetch.ArticleThreshold = DefaultArticleThreshold
	}
	if cfg.Fetch.ArticleWait.Duration == 0 {
		cfg.Fetch.ArticleWait.Duration = DefaultArticleWait
	}
	p := &cfg.Polling
	if p.MinInterval.Duration == 0 {
		p.MinInterval.Duration = 5 * time.Minute
	}
	if p.MaxInterval.Duration == 0 {
		p.MaxInterval.Duration = 24 * time.Hour
	}
	if p.MaxBackoff.Duration == 0 {
		p.MaxBackoff.Duration = 6 * time.Hour
	}
	if p.PerHost == 0 {
		p.PerHost = 2
	}
	if p.UnhealthyAfter.Duration == 0 {
		p.UnhealthyAfter.Duration = 6 * time.Hour
	}
	if p.LeasePeriod.Duration == 0 {
		p.LeasePeriod.Duration = 60 * time.Second
	}
	if cfg.Slack.OpsChannel == "" {
		cfg.Slack.OpsChannel = cfg.Slack.Channel
	}
	if cfg.Slack.APIURL == "" {
		cfg.Slack.APIURL = DefaultAPIURL
	}
	if cfg.Digest.Schedule == "" {
		cfg.Digest.Schedule = "0 9 * * MON"
	}
	if cfg.Digest.Channel == "" {
		cfg.Digest.Channel = cfg.Slack.Channel
	}
	if cfg.MemoryLimitMB == 0 {
		cfg.MemoryLimitMB = 100
	}
	if cfg.Alerting.IncidentWindow.Duration == 0 {
		cfg.Alerting.IncidentWindow.Duration = 120 * time.Hour
	}
	if cfg.Alerting.MaxRetryWait.Duration == 0 {
		cfg.Alerting.MaxRetryWait.Duration = 30 * time.Second
	}
	for i := range cfg.Feeds {
		if cfg.Feeds[i].Schedule == "" {
			cfg.Feeds[i].Schedule = cfg.DefaultSchedule
		}
		if isLocalPath(cfg.Feeds[i].URL) {
			cfg.Feeds[i].URL = resolve(baseDir, strings.TrimPrefix(cfg.Feeds[i].URL, "file://"))
		}
	}
	for i := range cfg.Dictionaries {
		cfg.Dictionaries[i] = resolve(baseDir, cfg.Dictionaries[i])
	}
}

func resolve(base, p string) string {
	if p == "" || filepath.IsAbs(p) || base == "" {
		return p
	}
	return filepath.Join(base, p)
}

// isLocalPath reports whether a feed URL names a file or directory.
func isLocalPath(s string) bool {
	if strings.HasPrefix(s, "file://") {
		return true
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme == "" && s != ""
}

type validator struct {
	file     string
	lines    map[string]int // field path → line
	problems Problems
}

func (v *validator) add(field, format string, args ...any) {
	v.problems = append(v.problems, Problem{File: v.file, Line: v.line(field), Field: field, Msg: fmt.Sprintf(format, args...)})
}

// line finds the closest recorded line for a field path, walking up to
// its parent when the field itself is absent.
func (v *validator) line(field string) int {
	for f := field; f != ""; {
		if l, ok := v.lines[f]; ok {
			return l
		}
		i := strings.LastIndexAny(f, ".[")
		if i < 0 {
			break
		}
		f = f[:i]
	}
	return 0
}

func (v *validator) yamlProblem(err error) Problem {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "yaml: ")
	line := 0
	if strings.HasPrefix(msg, "line ") {
		rest := msg[len("line "):]
		if i := strings.Index(rest, ":"); i > 0 {
			if n, err := strconv.Atoi(rest[:i]); err == nil {
				line = n
				msg = strings.TrimSpace(rest[i+1:])
			}
		}
	}
	return Problem{File: v.file, Line: line, Msg: msg}
}

// walk records the line of every key and reports keys the struct does not
// have, so a typo is an error rather than a silently ignored setting.
func (v *validator) walk(n *yaml.Node, t reflect.Type, path string) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	switch t.Kind() {
	case reflect.Struct:
		if t == reflect.TypeOf(Duration{}) {
			if _, err := parseDuration(n); err != nil {
				v.problems = append(v.problems, Problem{File: v.file, Line: n.Line, Field: path, Msg: err.Error()})
			}
			return
		}
		if n.Kind != yaml.MappingNode {
			if n.Kind != yaml.ScalarNode || n.Tag != "!!null" {
				v.problems = append(v.problems, Problem{File: v.file, Line: n.Line, Field: path, Msg: "must be a mapping of settings"})
			}
			return
		}
		fields := yamlFields(t)
		seen := map[string]bool{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			fp := join(path, k.Value)
			v.lines[fp] = k.Line
			if seen[k.Value] {
				v.problems = append(v.problems, Problem{File: v.file, Line: k.Line, Field: fp, Msg: "set twice"})
			}
			seen[k.Value] = true
			ft, ok := fields[k.Value]
			if !ok {
				if env, secret := secretKeys[k.Value]; secret {
					v.problems = append(v.problems, Problem{File: v.file, Line: k.Line, Field: fp, Msg: fmt.Sprintf("secrets never live in the file; set the %s environment variable instead", env)})
					continue
				}
				v.problems = append(v.problems, Problem{File: v.file, Line: k.Line, Field: fp, Msg: fmt.Sprintf("unknown field%s", suggest(k.Value, fields))})
				continue
			}
			v.walk(val, ft, fp)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return // the decoder reports the type mismatch
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			fp := join(path, n.Content[i].Value)
			v.lines[fp] = n.Content[i].Line
			v.walk(n.Content[i+1], t.Elem(), fp)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return // the decoder reports the type mismatch
		}
		for i, c := range n.Content {
			fp := fmt.Sprintf("%s[%d]", path, i)
			v.lines[fp] = c.Line
			v.walk(c, t.Elem(), fp)
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

// suggest names the closest known key for a likely typo.
func suggest(key string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for name := range fields {
		if d := editDistance(key, name); d < bestD || (d == bestD && name < best) {
			best, bestD = name, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}

// envRef is one ${NAME} reference in a header value.
var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandHeaders replaces ${NAME} in feed header values with the
// environment's value; an unset or empty variable is a problem, since
// sending a private feed an empty credential only earns a 401 later.
func (v *validator) expandHeaders(cfg *Config, getenv func(string) string) {
	for i := range cfg.Feeds {
		for k, val := range cfg.Feeds[i].Headers {
			if !strings.Contains(val, "${") {
				continue
			}
			field := fmt.Sprintf("feeds[%d].headers.%s", i, k)
			out := envRef.ReplaceAllStringFunc(val, func(ref string) string {
				name := ref[2 : len(ref)-1]
				env := getenv(name)
				if env == "" {
					v.add(field, "environment variable %s is not set", name)
				}
				return env
			})
			if strings.Contains(out, "${") {
				v.add(field, "malformed ${…} reference: use ${NAME} with letters, digits and _")
			}
			cfg.Feeds[i].Headers[k] = out
		}
	}
}

// checkListen validates a host:port listen address.
func checkListen(addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be host:port such as 127.0.0.1:8080, got %q", addr)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port must be a number from 0 to 65535, got %q", port)
	}
	if host != "" && net.ParseIP(host) == nil && !validHostname(host) {
		return fmt.Errorf("host %q is neither an IP address nor a host name", host)
	}
	return nil
}

// validHostname accepts DNS names: dot-separated labels of letters,
// digits and hyphens.
func validHostname(h string) bool {
	if len(h) == 0 || len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-') {
				return false
			}
		}
	}
	return true
}

// IsLoopbackListen reports whether addr binds only to this machine.
func IsLoopbackListen(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && isLoopbackHost(host)
}

func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Warnings are settings that are valid but risky: check-config prints
// them and serve logs them at start.
func (c *Config) Warnings() []string {
	var w []string
	if !IsLoopbackListen(c.Listen) && !c.APIToken.IsSet() {
		w = append(w, fmt.Sprintf("listen %s is reachable from other machines and ACCORDWATCH_API_TOKEN is not set: anyone who can reach it can search, read and add silences", c.Listen))
	}
	if u, err := url.Parse(c.Slack.APIURL); err == nil && u.Scheme == "http" && (c.Slack.BotToken.IsSet() || c.Slack.AppToken.IsSet()) && !isLoopbackHost(u.Hostname()) {
		w = append(w, fmt.Sprintf("slack.api_url %s is plain http: the bot token would cross the network in clear; use https", u.Redacted()))
	}
	if u, err := url.Parse(c.Webhook.URL.Reveal()); err == nil && u.Scheme == "http" && !isLoopbackHost(u.Hostname()) {
		w = append(w, "ACCORDWATCH_WEBHOOK_URL is plain http: alerts and their signatures cross the network in clear; use https")
	}
	if c.Fetch.AllowPrivateNetworks {
		w = append(w, "fetch.allow_private_networks is on: feeds and their redirects may reach loopback, private and link-local addresses")
	}
	return w
}

func (v *validator) validate(cfg *Config, checks Checks) {
	if err := checkListen(cfg.Listen); err != nil {
		v.add("listen", "%v", err)
	}
	for i, h := range cfg.AllowedHosts {
		if net.ParseIP(h) == nil && !validHostname(h) {
			v.add(fmt.Sprintf("allowed_hosts[%d]", i), "must be a host name without scheme, port or path, got %q", h)
		}
	}
	loc, err := time.LoadLocation(cfg.Timezone)
	if err != nil {
		v.add("timezone", "unknown time zone %q (use an IANA name such as Europe/Brussels or UTC)", cfg.Timezone)
	} else {
		cfg.Location = loc
	}
	if cfg.Fetch.Timeout.Duration < 0 {
		v.add("fetch.timeout", "must be positive")
	}
	if cfg.Fetch.MaxBodyMB < 0 || cfg.Fetch.MaxBodyMB > 1024 {
		v.add("fetch.max_body_mb", "must be between 1 and 1024, got %d", cfg.Fetch.MaxBodyMB)
	}
	if cfg.Fetch.Concurrency < 0 || cfg.Fetch.Concurrency > 256 {
		v.add("fetch.concurrency", "must be between 1 and 256, got %d", cfg.Fetch.Concurrency)
	}
	if t := cfg.Fetch.ArticleThreshold; t < 1 || t > 100_000 {
		v.add("fetch.article_threshold", "must be between 1 and 100000 characters, got %d", t)
	}
	if w := cfg.Fetch.ArticleWait.Duration; w < 0 || w > 5*time.Minute {
		v.add("fetch.article_wait", "must be between 0s and 5m, got %s", w)
	}
	if p := cfg.Polling; p.MinInterval.Duration < time.Minute || p.MaxInterval.Duration < p.MinInterval.Duration {
		v.add("polling", "need 1m <= min_interval <= max_interval, got %s and %s", p.MinInterval.Duration, p.MaxInterval.Duration)
	}
	if p := cfg.Polling; p.MaxBackoff.Duration < p.MinInterval.Duration || p.MaxBackoff.Duration > p.MaxInterval.Duration {
		v.add("polling.max_backoff", "must be between min_interval and max_interval, got %s", p.MaxBackoff.Duration)
	}
	if checks.Schedule != nil {
		if err := checks.Schedule(cfg.Digest.Schedule); err != nil {
			v.add("digest.schedule", "%v", err)
		}
	}
	if b := cfg.Digest.BaseURL; b != "" {
		if u, err := url.Parse(b); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add("digest.base_url", "must be an http(s) URL, got %q", b)
		}
	}
	for i, sec := range cfg.Digest.Sections {
		p := fmt.Sprintf("digest.sections[%d]", i)
		if strings.TrimSpace(sec.Name) == "" {
			v.add(p+".name", "is required")
		}
		if strings.TrimSpace(sec.Query) == "" {
			v.add(p+".query", "is required")
		} else if checks.Query != nil {
			if err := checks.Query(sec.Query); err != nil {
				v.add(p+".query", "%v", err)
			}
		}
	}
	if s := cfg.Alerting.Similarity; s < 0 || s > 1 {
		v.add("alerting.similarity", "must be between 0 and 1, got %g", s)
	}
	if cfg.MemoryLimitMB < 32 {
		v.add("memory_limit_mb", "must be at least 32, got %d", cfg.MemoryLimitMB)
	}
	if cfg.Polling.PerHost < 1 || cfg.Polling.PerHost > 64 {
		v.add("polling.per_host", "must be between 1 and 64, got %d", cfg.Polling.PerHost)
	}
	if d := cfg.Polling.LeasePeriod.Duration; d < time.Second || d > time.Hour {
		v.add("polling.lease_period", "must be between 1s and 1h, got %s", d)
	}
	if checks.Schedule != nil {
		if err := checks.Schedule(cfg.DefaultSchedule); err != nil {
			v.add("default_schedule", "%v", err)
		}
	}
	urls := map[string]int{}
	names := map[string]int{}
	for i, f := range cfg.Feeds {
		p := fmt.Sprintf("feeds[%d]", i)
		switch {
		case f.URL == "":
			v.add(p+".url", "is required")
		case isLocalPath(f.URL):
			// Checked when polled: an archive may be mounted later.
		default:
			u, err := url.Parse(f.URL)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				v.add(p+".url", "must be an http(s) URL or a file path, got %q", f.URL)
			}
		}
		if j, dup := urls[f.URL]; dup && f.URL != "" {
			v.add(p+".url", "duplicates feeds[%d].url", j)
		} else {
			urls[f.URL] = i
		}
		if f.Name != "" {
			if j, dup := names[f.Name]; dup {
				v.add(p+".name", "duplicates feeds[%d].name %q", j, f.Name)
			} else {
				names[f.Name] = i
			}
		}
		if checks.Schedule != nil && f.Schedule != cfg.DefaultSchedule {
			if err := checks.Schedule(f.Schedule); err != nil {
				v.add(p+".schedule", "%v", err)
			}
		}
		switch f.Article {
		case "", accordwatch.ArticleAuto, accordwatch.ArticleAlways, accordwatch.ArticleNever:
		default:
			v.add(p+".article", "must be auto, always or never, got %q", f.Article)
		}
	}
	if cfg.Slack.APIURL != "" {
		u, err := url.Parse(cfg.Slack.APIURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add("slack.api_url", "must be an http(s) URL (from the file or SLACK_API_URL)")
		}
	}
	if w := cfg.Webhook.URL.Reveal(); w != "" {
		if u, err := url.Parse(w); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			v.add("webhook", "ACCORDWATCH_WEBHOOK_URL must be an http(s) URL")
		}
	}
	if w := cfg.Slack.WebhookURL.Reveal(); w != "" {
		if u, err := url.Parse(w); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			v.add("slack", "SLACK_WEBHOOK_URL must be an http(s) URL")
		}
	}
	rules := map[string]int{}
	for i, r := range cfg.Rules {
		p := fmt.Sprintf("rules[%d]", i)
		if r.Name == "" {
			v.add(p+".name", "is required")
		} else if j, dup := rules[r.Name]; dup {
			v.add(p+".name", "duplicates rules[%d].name %q", j, r.Name)
		} else {
			rules[r.Name] = i
		}
		if strings.TrimSpace(r.Query) == "" {
			v.add(p+".query", "is required")
		} else if checks.Query != nil {
			if err := checks.Query(r.Query); err != nil {
				v.add(p+".query", "%v", err)
			}
		}
		if r.MinSeverity < 0 || r.MinSeverity > 100 {
			v.add(p+".min_severity", "must be between 0 and 100, got %d", r.MinSeverity)
		}
		if r.RateCap < 0 {
			v.add(p+".rate_cap", "must be 0 (no cap) or more, got %d", r.RateCap)
		}
		if r.RepeatInterval.Duration < 0 {
			v.add(p+".repeat_interval", "must be positive")
		}
	}
	for i, w := range cfg.Watch {
		p := fmt.Sprintf("watch[%d]", i)
		if strings.TrimSpace(w.Channel) == "" {
			v.add(p+".channel", "is required")
		}
		q := w.Query()
		if q == "" {
			v.add(p, "lists no signatories, actors, states or keywords")
		} else if checks.Query != nil {
			if err := checks.Query(q); err != nil {
				v.add(p, "%v", err)
			}
		}
		if w.MinSeverity < 0 || w.MinSeverity > 100 {
			v.add(p+".min_severity", "must be between 0 and 100, got %d", w.MinSeverity)
		}
	}
}

// FeedsAll returns every configured feed as a domain value, disabled ones
// included (marked).
func (c *Config) FeedsAll() []accordwatch.Feed {
	out := make([]accordwatch.Feed, 0, len(c.Feeds))
	for _, f := range c.Feeds {
		out = append(out, accordwatch.Feed{Name: f.Name, URL: f.URL, Schedule: f.Schedule, Tags: f.Tags, UserAgent: f.UserAgent,
			Headers: f.Headers, Disabled: f.Disabled, MinInterval: f.MinInterval.Duration, Source: "config", Article: f.Article})
	}
	return out
}

// FeedList returns the enabled feeds as domain values.
func (c *Config) FeedList() []accordwatch.Feed {
	var out []accordwatch.Feed
	for _, f := range c.FeedsAll() {
		if !f.Disabled {
			out = append(out, f)
		}
	}
	return out
}

// RuleList returns the alert rules, watch-lists included, as domain values.
func (c *Config) RuleList() []accordwatch.Rule {
	out := make([]accordwatch.Rule, 0, len(c.Rules)+len(c.Watch))
	for _, r := range c.Rules {
		out = append(out, accordwatch.Rule{Name: r.Name, Query: r.Query, Channel: r.Channel, MinSeverity: r.MinSeverity,
			RepeatInterval: r.RepeatInterval.Duration, RateCap: r.RateCap})
	}
	for _, w := range c.Watch {
		out = append(out, accordwatch.Rule{Name: "watch " + w.Channel, Query: w.Query(), Channel: w.Channel,
			MinSeverity: w.MinSeverity, RateCap: w.RateCap})
	}
	return out
}
