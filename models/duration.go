package models

import "time"

// FormatDuration writes a duration the one way every page, dialog and email writes it: in the
// largest of days, hours, minutes or seconds that divides it exactly ("7 days", "36 hours",
// "1 day"), so that 48 hours set in hours and 2 days set in days read the same.
func FormatDuration(d time.Duration) string {
	units := []struct {
		size      time.Duration
		one, many string
	}{{24 * time.Hour, "day", "days"}, {time.Hour, "hour", "hours"}, {time.Minute, "minute", "minutes"}}
	for _, u := range units {
		if d >= u.size && d%u.size == 0 {
			return Plural(int64(d/u.size), u.one, u.many)
		}
	}
	return Plural(int64(d/time.Second), "second", "seconds")
}
