package api

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"onramp/models"
)

// Document is the OpenAPI 3.1 description of this API, served at /api/v1/openapi.json.
//
//go:embed openapi.json
var Document []byte

// OpenAPI serves GET /api/v1/openapi.json (no token: tools read it first).
func (h *Handler) OpenAPI(c echo.Context) error {
	return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, Document)
}

// document is the part of openapi.json the router reads: each operation's security.
type document struct {
	Paths map[string]map[string]json.RawMessage `json:"paths"`
}

type operation struct {
	OperationID string                `json:"operationId"`
	Security    []map[string][]string `json:"security"`
}

// operations reads every operation of openapi.json, keyed by "METHOD /router/path".
func operations() (map[string]operation, error) {
	var d document
	if err := json.Unmarshal(Document, &d); err != nil {
		return nil, fmt.Errorf("openapi.json: %w", err)
	}
	out := map[string]operation{}
	for path, ops := range d.Paths {
		for method, raw := range ops {
			if method == "parameters" || method == "summary" || method == "description" {
				continue
			}
			key := strings.ToUpper(method) + " " + EchoPath(path)
			var op operation
			if err := json.Unmarshal(raw, &op); err != nil {
				return nil, fmt.Errorf("openapi.json: %s: %w", key, err)
			}
			out[key] = op
		}
	}
	return out, nil
}

// Operations returns the operationId of each operation of openapi.json, keyed by "METHOD
// /router/path": the route table names its routes the same.
func Operations() (map[string]string, error) {
	ops, err := operations()
	out := make(map[string]string, len(ops))
	for key, op := range ops {
		out[key] = op.OperationID
	}
	return out, err
}

// EchoPath turns an OpenAPI path (/users/{id}) into the router's (/users/:id).
func EchoPath(p string) string {
	p = strings.ReplaceAll(p, "{", ":")
	return strings.ReplaceAll(p, "}", "")
}

// OperationScopes reads the scope each operation of openapi.json needs, keyed by "METHOD
// /router/path"; operations open to anyone ("security": []) have none and are left out. An
// operation with no scope, several, or an unknown one is an error.
func OperationScopes() (map[string]models.Scope, error) {
	ops, err := operations()
	if err != nil {
		return nil, err
	}
	out := map[string]models.Scope{}
	for key, op := range ops {
		if op.Security != nil && len(op.Security) == 0 {
			continue
		}
		if len(op.Security) != 1 || len(op.Security[0]["token"]) != 1 {
			return nil, fmt.Errorf("openapi.json: %s must need exactly one scope of the token scheme", key)
		}
		s := models.Scope(op.Security[0]["token"][0])
		if !s.Valid() {
			return nil, fmt.Errorf("openapi.json: %s needs the unknown scope %q", key, s)
		}
		out[key] = s
	}
	return out, nil
}
