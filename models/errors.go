package models

import (
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Errors services return; the HTTP layer maps them to status codes with errors.Is.
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrForbidden    = errors.New("forbidden")
	ErrUnauthorized = errors.New("unauthorized")
	ErrGone         = errors.New("gone")
	// ErrBusy: the server is at capacity for this kind of work right now (password hashing, say);
	// trying again in a moment works.
	ErrBusy = errors.New("busy")
	// ErrUnavailable: the database cannot be reached (restarting, network cut, out of
	// connections); the same request works once it is back.
	ErrUnavailable = errors.New("database unavailable")
)

// ValidationError carries a message per form field (and "" for the form as a whole).
type ValidationError struct {
	Fields map[string]string
}

// NewValidationError starts an error with one field message.
func NewValidationError(field, msg string) *ValidationError {
	return &ValidationError{Fields: map[string]string{field: msg}}
}

// Add records a message for field unless one is already there (the first problem is the clearest).
func (v *ValidationError) Add(field, msg string) {
	if v.Fields == nil {
		v.Fields = map[string]string{}
	}
	if _, ok := v.Fields[field]; !ok {
		v.Fields[field] = msg
	}
}

// OrNil returns v as an error when it holds a message, else nil.
func (v *ValidationError) OrNil() error {
	if v == nil || len(v.Fields) == 0 {
		return nil
	}
	return v
}

func (v *ValidationError) Error() string {
	keys := make([]string, 0, len(v.Fields))
	for k := range v.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		if k == "" {
			parts = append(parts, v.Fields[k])
			continue
		}
		parts = append(parts, k+": "+v.Fields[k])
	}
	return "invalid input: " + strings.Join(parts, "; ")
}

// RateLimitError says a caller failed too often and when it may try again.
type RateLimitError struct {
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("too many attempts: retry after %s", e.RetryAfter.Round(time.Second))
}
