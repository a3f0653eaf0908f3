package models

import "strconv"

// Plural counts n things in words: "1 user", "3 users", "0 messages were". one and many are the
// singular and the plural of what follows the number.
func Plural[N ~int | ~int64](n N, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(int64(n), 10) + " " + many
}
