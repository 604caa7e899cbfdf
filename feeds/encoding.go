package feeds

import (
	"bytes"
	"io"
	"mime"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/net/html/charset"
)

// xmlDeclEncoding finds encoding="…" in an XML declaration.
var xmlDeclEncoding = regexp.MustCompile(`^\s*<\?xml[^>]*?\sencoding\s*=\s*["']([A-Za-z0-9._:-]+)["']`)

// normalizeEncoding makes body parseable by gofeed, in the order that does
// not corrupt text (LIBRARIES.md §1.3):
//
//  1. A body that declares a non-UTF-8 XML encoding is left untouched:
//     gofeed decodes it, and transcoding it first would decode it twice.
//  2. Otherwise a non-UTF-8 charset from the HTTP Content-Type is
//     transcoded to UTF-8 (gofeed ignores the header).
//  3. Finally invalid bytes become U+FFFD, because one stray byte would
//     otherwise fail the whole feed.
func normalizeEncoding(body []byte, contentType string) []byte {
	declared := declaredEncoding(body)
	if declared != "" && !isUTF8Label(declared) {
		return body
	}
	if cs := httpCharset(contentType); cs != "" && !isUTF8Label(cs) {
		// A document that explicitly declares UTF-8 and is valid UTF-8 is
		// trusted over a server's default charset header.
		if !(declared != "" && utf8.Valid(body)) {
			if r, err := charset.NewReaderLabel(cs, bytes.NewReader(body)); err == nil {
				if out, err := io.ReadAll(r); err == nil {
					body = out
				}
			}
		}
	}
	if utf8.Valid(body) {
		return body
	}
	return bytes.ToValidUTF8(body, []byte("\uFFFD"))
}

// declaredEncoding returns the encoding named by the XML declaration in the
// first 512 bytes, or "".
func declaredEncoding(body []byte) string {
	head := body[:min(len(body), 512)]
	head = bytes.TrimPrefix(head, []byte("\xef\xbb\xbf"))
	m := xmlDeclEncoding.FindSubmatch(head)
	if m == nil {
		return ""
	}
	return string(m[1])
}

func httpCharset(contentType string) string {
	if contentType == "" {
		return ""
	}
	_, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(params["charset"])
}

func isUTF8Label(label string) bool {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "unicode-1-1-utf-8":
		return true
	}
	return false
}
