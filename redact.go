package accordwatch

import (
	"net/url"
	"strings"
)

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
			u.User = url.UserPassword(u.User.Username(), "xxxxx")
		} else if u.User.Username() != "" {
			// A bare userinfo is often a token ("https://TOKEN@host/").
			u.User = url.User("xxxxx")
		}
	}
	if u.RawQuery != "" {
		q := u.Query()
		changed := false
		for k := range q {
			if secretParams[strings.ReplaceAll(strings.ToLower(k), "-", "_")] {
				q[k] = []string{"xxxxx"}
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
			return "xxxxx" + s[at:]
		}
		s = s[:start+2] + "xxxxx" + s[at:]
	}
	return s
}
