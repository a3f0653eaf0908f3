// Package directory owns the account's directories (identity sources): for now SCIM 2.0
// (RFC 7643 / 7644), whose bearer tokens it issues and checks, and whose /Users resources it
// maps onto SDP users through models/users (so that the account's provisioning settings and
// the disable path are the console's own).
package directory

import "fmt"

// Schema URNs of RFC 7643 / 7644.
const (
	SchemaUser     = "urn:ietf:params:scim:schemas:core:2.0:User"
	SchemaList     = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	SchemaError    = "urn:ietf:params:scim:api:messages:2.0:Error"
	SchemaPatch    = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
	SchemaSPConfig = "urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"
	SchemaResType  = "urn:ietf:params:scim:schemas:core:2.0:ResourceType"
	SchemaSchema   = "urn:ietf:params:scim:schemas:core:2.0:Schema"
)

// Error is a SCIM error (RFC 7644 §3.12): its HTTP status and, where the RFC names one, its
// scimType.
type Error struct {
	Status int
	Type   string
	Detail string
}

func (e *Error) Error() string { return fmt.Sprintf("scim %d %s: %s", e.Status, e.Type, e.Detail) }
