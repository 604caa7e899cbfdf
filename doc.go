// Package accordwatch holds the domain types shared by every part of the
// service: feeds and their health, items and the tags the classifier gives
// them, the evidence behind each tag, alert rules and alerts. It does no I/O;
// the packages beside it (feeds, classify, store, index, notify, monitor, web)
// each own one dependency and exchange these types.
package accordwatch
