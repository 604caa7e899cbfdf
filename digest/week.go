package digest

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// WeekRange returns the bounds [from, to) of an ISO week such as
// "2026-W47": Monday 00:00 to the next Monday 00:00 in loc (nil = UTC).
// Days are added on the calendar, so a week with a DST change is still
// seven local days.
func WeekRange(isoWeek string, loc *time.Location) (from, to time.Time, err error) {
	if loc == nil {
		loc = time.UTC
	}
	bad := fmt.Errorf("week %q: want YYYY-Www, e.g. 2026-W47", isoWeek)
	ys, ws, ok := strings.Cut(strings.TrimSpace(isoWeek), "-W")
	if !ok || len(ys) != 4 || len(ws) != 2 {
		return from, to, bad
	}
	year, err1 := strconv.Atoi(ys)
	week, err2 := strconv.Atoi(ws)
	if err1 != nil || err2 != nil || year < 1 || week < 1 || week > 53 {
		return from, to, bad
	}
	// 4 January is always in week 1; its Monday starts week 1.
	jan4 := time.Date(year, time.January, 4, 0, 0, 0, 0, loc)
	monday := jan4.AddDate(0, 0, -(int(jan4.Weekday())+6)%7)
	from = time.Date(monday.Year(), monday.Month(), monday.Day()+7*(week-1), 0, 0, 0, 0, loc)
	if y, w := from.ISOWeek(); y != year || w != week {
		return time.Time{}, time.Time{}, fmt.Errorf("week %q: %d has no week %d", isoWeek, year, week)
	}
	return from, from.AddDate(0, 0, 7), nil
}

// WeekName names the ISO week that contains t in loc, e.g. "2026-W47".
func WeekName(t time.Time, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	y, w := t.In(loc).ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// PreviousWeek returns the last complete ISO week before now in loc: its
// name and bounds.
func PreviousWeek(now time.Time, loc *time.Location) (week string, from, to time.Time) {
	if loc == nil {
		loc = time.UTC
	}
	week = WeekName(now.In(loc).AddDate(0, 0, -7), loc)
	from, to, _ = WeekRange(week, loc) // a name WeekName made always parses
	return week, from, to
}

// isWeek reports the ISO week name when [from, to) is exactly one ISO week
// in loc.
func isWeek(from, to time.Time, loc *time.Location) (string, bool) {
	name := WeekName(from, loc)
	f, t, err := WeekRange(name, loc)
	if err != nil || !f.Equal(from) || !t.Equal(to) {
		return "", false
	}
	return name, true
}

// isMidnight reports whether t is 00:00 in loc.
func isMidnight(t time.Time, loc *time.Location) bool {
	l := t.In(loc)
	return l.Hour() == 0 && l.Minute() == 0 && l.Second() == 0 && l.Nanosecond() == 0
}

// previousRange is the equal range just before [from, to): the same
// number of calendar days when both ends are local midnights (so a week
// across a DST change compares with a whole week), else the same duration.
func previousRange(from, to time.Time, loc *time.Location) (time.Time, time.Time) {
	if isMidnight(from, loc) && isMidnight(to, loc) {
		days := 0
		for d := from.In(loc); d.Before(to); d = d.AddDate(0, 0, 1) {
			days++
		}
		return from.In(loc).AddDate(0, 0, -days), from
	}
	return from.Add(-to.Sub(from)), from
}

// ParseRange turns the CLI's and the API's range parameters into bounds:
// an ISO week ("2026-W47"), or from and to dates (YYYY-MM-DD, to
// inclusive; either may be omitted: from defaults to 7 days before to,
// to to from+7 days), or nothing for the previous week before now. A
// given range must lie within the years MinYear to MaxYear and span at
// most MaxRangeDays days; the error says which limit it broke.
func ParseRange(week, from, to string, now time.Time, loc *time.Location) (time.Time, time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	week, from, to = strings.TrimSpace(week), strings.TrimSpace(from), strings.TrimSpace(to)
	switch {
	case week != "" && (from != "" || to != ""):
		return time.Time{}, time.Time{}, fmt.Errorf("give a week or a from/to range, not both")
	case week != "":
		f, t, err := WeekRange(week, loc)
		if err != nil {
			return f, t, err
		}
		if err := checkSpan(f, t, loc); err != nil {
			return time.Time{}, time.Time{}, fmt.Errorf("week %q: %w", week, err)
		}
		return f, t, nil
	case from == "" && to == "":
		_, f, t := PreviousWeek(now, loc)
		return f, t, nil
	}
	day := func(name, s string) (time.Time, error) {
		d, err := time.ParseInLocation(time.DateOnly, s, loc)
		if err != nil {
			return d, fmt.Errorf("%s %q: want a date like 2026-11-16", name, s)
		}
		return d, nil
	}
	var f, t time.Time
	var err error
	if from != "" {
		if f, err = day("from", from); err != nil {
			return f, t, err
		}
	}
	if to != "" {
		if t, err = day("to", to); err != nil {
			return f, t, err
		}
		t = t.AddDate(0, 0, 1) // inclusive day
	}
	switch {
	case from == "":
		f = t.AddDate(0, 0, -7)
	case to == "":
		t = f.AddDate(0, 0, 7)
	}
	if !t.After(f) {
		return f, t, fmt.Errorf("to %s is before from %s", to, from)
	}
	if err := checkSpan(f, t, loc); err != nil {
		return time.Time{}, time.Time{}, err
	}
	return f, t, nil
}

// The limits ParseRange puts on a range. A digest reads every hit in its
// range and its previous range, so an unbounded one ("from=0001-01-01")
// walks the whole index and renders a page of megabytes, and a year
// outside what the index and time zones represent fails deep in the
// search. A digest covers a week; a year is the longest useful one.
const (
	MinYear      = 1970
	MaxYear      = 2200
	MaxRangeDays = 366
)

// checkSpan reports a range outside MinYear–MaxYear or longer than
// MaxRangeDays calendar days in loc, naming the limit it broke.
func checkSpan(from, to time.Time, loc *time.Location) error {
	first := time.Date(MinYear, time.January, 1, 0, 0, 0, 0, loc)
	end := time.Date(MaxYear+1, time.January, 1, 0, 0, 0, 0, loc)
	if from.Before(first) || to.After(end) {
		return fmt.Errorf("range %s to %s: dates must be from %d-01-01 to %d-12-31",
			from.In(loc).Format(time.DateOnly), to.In(loc).AddDate(0, 0, -1).Format(time.DateOnly), MinYear, MaxYear)
	}
	// Calendar days, so a range across a DST change is not a day short.
	if to.After(from.AddDate(0, 0, MaxRangeDays)) {
		return fmt.Errorf("range %s to %s: longer than the limit of %d days",
			from.In(loc).Format(time.DateOnly), to.In(loc).AddDate(0, 0, -1).Format(time.DateOnly), MaxRangeDays)
	}
	return nil
}
