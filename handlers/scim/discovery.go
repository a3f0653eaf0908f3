package scim

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"onramp/models/directory"
)

// The discovery documents (RFC 7644 §4) say what this server does: PATCH and filters, no
// bulk, sort, ETags or password changes; the User and Group resources with the attributes
// Onramp maps (externalId is a common attribute, RFC 7643 §3.1, so no schema lists it).
var (
	serviceProviderConfig = `{"schemas":["` + directory.SchemaSPConfig + `"],
"patch":{"supported":true},"bulk":{"supported":false,"maxOperations":0,"maxPayloadSize":0},
"filter":{"supported":true,"maxResults":` + strconv.Itoa(directory.MaxResults) + `},
"changePassword":{"supported":false},"sort":{"supported":false},"etag":{"supported":false},
"authenticationSchemes":[{"type":"oauthbearertoken","name":"Bearer token","description":"A token from onramp directory scim-token.","primary":true}],
"meta":{"resourceType":"ServiceProviderConfig"}}`

	userResourceType = `{"schemas":["` + directory.SchemaResType + `"],"id":"User","name":"User","endpoint":"/Users",
"description":"An SDP user","schema":"` + directory.SchemaUser + `","meta":{"resourceType":"ResourceType"}}`

	groupResourceType = `{"schemas":["` + directory.SchemaResType + `"],"id":"Group","name":"Group","endpoint":"/Groups",
"description":"A directory group of SDP users","schema":"` + directory.SchemaGroup + `","meta":{"resourceType":"ResourceType"}}`

	groupSchema = `{"schemas":["` + directory.SchemaSchema + `"],"id":"` + directory.SchemaGroup + `","name":"Group","description":"A directory group of SDP users",
"attributes":[
` + attr("displayName", "string", true, "server", `"caseExact":false,`) + `,
{"name":"members","type":"complex","multiValued":true,"required":false,"mutability":"readWrite","returned":"default","uniqueness":"none",
 "subAttributes":[` + attr("value", "string", false, "none", "") + `,` + attr("display", "string", false, "none", "") + `,` +
		`{"name":"$ref","type":"reference","referenceTypes":["User"],"multiValued":false,"required":false,"mutability":"immutable","returned":"default","uniqueness":"none"}]}],
"meta":{"resourceType":"Schema"}}`

	userSchema = `{"schemas":["` + directory.SchemaSchema + `"],"id":"` + directory.SchemaUser + `","name":"User","description":"An SDP user",
"attributes":[
` + attr("userName", "string", true, "server", `"caseExact":false,`) + `,
` + attr("displayName", "string", false, "none", "") + `,
{"name":"name","type":"complex","multiValued":false,"required":false,"mutability":"readWrite","returned":"default","uniqueness":"none",
 "subAttributes":[` + attr("givenName", "string", false, "none", "") + `,` + attr("familyName", "string", false, "none", "") + `,` + attr("formatted", "string", false, "none", "") + `]},
{"name":"emails","type":"complex","multiValued":true,"required":false,"mutability":"readWrite","returned":"default","uniqueness":"none",
 "subAttributes":[` + attr("value", "string", false, "none", "") + `,` + attr("type", "string", false, "none", "") + `,` + attr("primary", "boolean", false, "none", "") + `]},
{"name":"phoneNumbers","type":"complex","multiValued":true,"required":false,"mutability":"readWrite","returned":"default","uniqueness":"none",
 "subAttributes":[` + attr("value", "string", false, "none", "") + `,` + attr("type", "string", false, "none", "") + `]},
` + attr("active", "boolean", false, "none", "") + `],
"meta":{"resourceType":"Schema"}}`
)

func attr(name, typ string, required bool, uniqueness, extra string) string {
	return `{"name":"` + name + `","type":"` + typ + `","multiValued":false,"required":` + strconv.FormatBool(required) + `,` + extra +
		`"mutability":"readWrite","returned":"default","uniqueness":"` + uniqueness + `"}`
}

// ServiceProviderConfig is GET /ServiceProviderConfig.
func (h *Handler) ServiceProviderConfig(c echo.Context) error {
	return c.Blob(http.StatusOK, contentType, []byte(serviceProviderConfig))
}

// ResourceTypes is GET /ResourceTypes.
func (h *Handler) ResourceTypes(c echo.Context) error {
	return c.Blob(http.StatusOK, contentType, []byte(listOf(userResourceType, groupResourceType)))
}

// Schemas is GET /Schemas.
func (h *Handler) Schemas(c echo.Context) error {
	return c.Blob(http.StatusOK, contentType, []byte(listOf(userSchema, groupSchema)))
}

func listOf(items ...string) string {
	n := strconv.Itoa(len(items))
	return `{"schemas":["` + directory.SchemaList + `"],"totalResults":` + n + `,"startIndex":1,"itemsPerPage":` + n +
		`,"Resources":[` + strings.Join(items, ",") + `]}`
}
