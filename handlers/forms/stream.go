package forms

// StreamDestination is the "Add destination" form of Settings > Event streaming; Events holds
// one filter a line.
type StreamDestination struct {
	Kind   string `form:"kind"`
	Name   string `form:"name"`
	URL    string `form:"url"`
	Events string `form:"events"`
}
