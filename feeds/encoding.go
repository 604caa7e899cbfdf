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
// not corrupt text (LIBRARIES.md §1.3), and survives wrong labels:
//
//  1. A body that is valid UTF-8 and not plain ASCII is UTF-8, whatever the
//     header or the XML declaration claim: text in a legacy encoding is
//     practically never valid UTF-8 by accident, while servers and CMSes
//     that label UTF-8 as ISO-8859-1 are common. A wrong declaration is
//     rewritten so gofeed does not decode the text a second time.
//  2. A body that declares a non-UTF-8 XML encoding is left untouched:
//     gofeed decodes it, and transcoding it first would decode it twice.
//  3. Otherwise a non-UTF-8 charset from the HTTP Content-Type is
//     transcoded to UTF-8 (gofeed ignores the header).
//  4. Invalid UTF-8 labelled UTF-8 (or not labelled) without a single valid
//     multi-byte sequence is legacy text: it is decoded as Windows-1252
//     (the WHATWG reading of ISO-8859-1). Otherwise invalid bytes become
//     U+FFFD, because one stray byte would fail the whole feed.
func normalizeEncoding(body []byte, contentType string) []byte {
	declared := declaredEncoding(body)
	if utf8.Valid(body) {
		if declared != "" && !isUTF8Label(declared) && !isUTF16Label(declared) && !isASCII(body) {
			return withUTF8Declaration(body)
		}
		return body
	}
	if declared != "" && !isUTF8Label(declared) {
		return body
	}
	if cs := httpCharset(contentType); cs != "" && !isUTF8Label(cs) {
		if out, ok := decodeLabel(cs, body); ok {
			body = out
		}
	} else if !hasMultibyteRune(body) {
		if out, ok := decodeLabel("windows-1252", body); ok {
			body = out
		}
	}
	if utf8.Valid(body) {
		return body
	}
	return bytes.ToValidUTF8(body, []byte("\uFFFD"))
}

func decodeLabel(label string, body []byte) ([]byte, bool) {
	r, err := charset.NewReaderLabel(label, bytes.NewReader(body))
	if err != nil {
		return nil, false
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return nil, false
	}
	return out, true
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// hasMultibyteRune reports whether b holds at least one valid UTF-8
// sequence of two or more bytes.
func hasMultibyteRune(b []byte) bool {
	for len(b) > 0 {
		r, size := utf8.DecodeRune(b)
		if size > 1 && r != utf8.RuneError {
			return true
		}
		b = b[size:]
	}
	return false
}

var utf8BOM = []byte("\xef\xbb\xbf")

// withUTF8Declaration returns body with its XML declaration's encoding
// replaced by UTF-8.
func withUTF8Declaration(body []byte) []byte {
	start := 0
	if bytes.HasPrefix(body, utf8BOM) {
		start = len(utf8BOM)
	}
	loc := xmlDeclEncoding.FindSubmatchIndex(body[start:min(len(body), start+512)])
	if loc == nil {
		return body
	}
	out := make([]byte, 0, len(body))
	out = append(out, body[:start+loc[2]]...)
	out = append(out, "UTF-8"...)
	return append(out, body[start+loc[3]:]...)
}

// declaredEncoding returns the encoding named by the XML declaration in the
// first 512 bytes, or "".
func declaredEncoding(body []byte) string {
	head := body[:min(len(body), 512)]
	head = bytes.TrimPrefix(head, utf8BOM)
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

func isUTF16Label(label string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(label)), "utf-16")
}
