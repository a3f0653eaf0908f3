package users

import "strconv"

func (r Row) idString() string  { return strconv.FormatInt(r.ID, 10) }
func (v Show) idString() string { return strconv.FormatInt(v.ID, 10) }
