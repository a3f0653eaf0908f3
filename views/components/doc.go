// Package components holds the pieces pages are built from: the confirm dialog and page body,
// the actions menu, flashes, form fields, pagination, the devices card, the progress of a run
// and the two-step verification set-up.
package components
