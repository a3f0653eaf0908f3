package clientaccess

import "strconv"

func itoa(n int) string { return strconv.Itoa(n) }

// timeline says who started the run and when, and when it finished.
func (r Run) timeline() string {
	s := "Started " + r.Created + " UTC by " + r.StartedBy
	if r.Finished != "" {
		return s + ", finished " + r.Finished + " UTC."
	}
	return s + "."
}
