package accordwatch

import (
	"net/url"
	"slices"
	"strings"
)

// redactedValue replaces a credential wherever one is masked.
const redactedValue = "xxxxx"

// secretParams are query parameters that commonly carry credentials in
// feed and webhook URLs (private feeds, API-keyed aggregators, signed
// links). Compared case-insensitively, with '-' read as '_'.
var secretParams = map[string]bool{
	"token": true, "access_token": true, "auth_token": true, "api_token": true,
	"private_token": true, "refresh_token": true, "id_token": true,
	"key": true, "apikey": true, "api_key": true, "access_key": true, "secret_key": true,
	"secret": true, "client_secret": true, "password": true, "passwd": true, "pwd": true,
	"pass": true, "auth": true, "authorization": true, "sig": true, "signature": true,
	"x_amz_signature": true, "x_amz_credential": true, "x_amz_security_token": true,
	"session": true, "sessionid": true, "sid": true, "hash": true, "code": true,
}

// RedactURL hides the credentials a URL may carry: the password of its
// userinfo (the user name is kept, so "which account" stays readable) and
// the value of every query parameter that commonly holds a secret. Every
// log line, CLI table, API answer and digest that shows a feed or webhook
// URL passes it through here; a string that does not parse as a URL is
// returned with its query and userinfo masked, since neither can be checked.
func RedactURL(raw string) string {
	if raw == "" {
		return ""
	}
	u, err := url.Parse(raw)
	if err != nil {
		return redactUnparsed(raw)
	}
	if u.User != nil {
		if _, has := u.User.Password(); has {
			u.User = url.UserPassword(u.User.Username(), redactedValue)
		} else if u.User.Username() != "" {
			// A bare userinfo is often a token ("https://TOKEN@host/").
			u.User = url.User(redactedValue)
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if secretParams[strings.ReplaceAll(strings.ToLower(k), "-", "_")] {
				q[k] = []string{redactedValue}
				changed = true
			}
		}
		if changed {
			u.RawQuery = q.Encode()
		}
	}
	return u.String()
}

// redactUnparsed masks what looks like userinfo and drops the query of a
// string url.Parse refused.
func redactUnparsed(s string) string {
	if i := strings.IndexByte(s, '?'); i >= 0 {
		s = s[:i] + "?xxxxx"
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 {
		start := strings.Index(s, "//")
		if start < 0 || start > at {
			return redactedValue + s[at:]
		}
		s = s[:start+2] + redactedValue + s[at:]
	}
	return s
}

// minSecretLen is the shortest value scrub masks: anything shorter is no
// credential worth the name, and masking it would garble the message.
const minSecretLen = 4

// feedSecrets lists the credential values a feed's settings hold: each
// header value (and the part after an auth scheme such as "Bearer "), and
// in each URL what RedactURL hides — the password or a bare user name, and
// the values of the parameters it masks — also as they look escaped.
func feedSecrets(headers map[string]string, urls ...string) []string {
	var out []string
	add := func(v string) {
		for _, s := range []string{v, url.QueryEscape(v), url.PathEscape(v)} {
			if len(s) >= minSecretLen {
				out = append(out, s)
			}
		}
	}
	for _, v := range headers {
		v = strings.TrimSpace(v)
		add(v)
		if _, cred, ok := strings.Cut(v, " "); ok {
			add(strings.TrimSpace(cred))
		}
	}
	for _, raw := range urls {
		u, err := url.Parse(raw)
		if err != nil {
			continue
		}
		if u.User != nil {
			if pw, ok := u.User.Password(); ok {
				add(pw)
			} else {
				add(u.User.Username())
			}
		}
		// The parameters RedactURL masks are the secret ones; comparing
		// keeps the list of their names in one place.
		red, err := url.Parse(RedactURL(raw))
		if err != nil {
			continue
		}
		q, rq := u.Query(), red.Query()
		for k, vs := range q {
			if !slices.Equal(vs, rq[k]) {
				for _, v := range vs {
					add(v)
				}
			}
		}
	}
	// Longest first, so a secret that contains another is masked whole.
	slices.SortFunc(out, func(a, b string) int {
		if len(a) != len(b) {
			return len(b) - len(a)
		}
		return strings.Compare(a, b)
	})
	return slices.Compact(out)
}

// scrub replaces every occurrence of a secret in s.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		s = strings.ReplaceAll(s, sec, redactedValue)
	}
	return s
}
