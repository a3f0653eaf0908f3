// Package stream renders Settings > Event streaming: the destinations, the form that adds one,
// the signing secret shown once, and a destination's delivery log.
package stream
