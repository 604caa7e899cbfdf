// Package web serves accordwatch's HTTP interface: the JSON search API
// that the CLI and other tools use, item lookup, and health. It owns
// net/http routing; the search page and metrics come with the search issue.
package web
