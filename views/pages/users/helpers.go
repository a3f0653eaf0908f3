package users

import "strconv"

func (r Row) idString() string  { return strconv.FormatInt(r.ID, 10) }
func (v Show) idString() string { return strconv.FormatInt(v.ID, 10) }

// GroupOption is a directory group in the list's Group filter.
type GroupOption struct {
	ID   string
	Name string
}

// groupValue is the chosen group's option value ("" for Any).
func (v List) groupValue() string {
	if v.Filter.Group == 0 {
		return ""
	}
	return strconv.FormatInt(v.Filter.Group, 10)
}
