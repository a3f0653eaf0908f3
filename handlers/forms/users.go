package forms

// NewUser is the New user form.
type NewUser struct {
	FirstName string `form:"first_name"`
	LastName  string `form:"last_name"`
	Email     string `form:"email"`
	Phone     string `form:"phone"`
}

// UserFilter is the Users list's filter (query string, or hidden fields of the bulk form).
type UserFilter struct {
	Q            string `query:"q" form:"q"`
	Status       string `query:"status" form:"status"`
	Origin       string `query:"origin" form:"origin"`
	Activation   string `query:"activation" form:"activation"`
	MFA          string `query:"mfa" form:"mfa"`
	NeverHadCode string `query:"never_had_code" form:"never_had_code"`
	Sort         string `query:"sort" form:"sort"`
	After        string `query:"after" form:"-"`
}

// BulkAction is the Users Actions menu's form.
type BulkAction struct {
	UserFilter
	Action      string  `form:"action"`
	IDs         []int64 `form:"ids"`
	AllMatching string  `form:"all_matching"`
	Confirm     string  `form:"confirm"`
	Back        string  `form:"back"`
}

// Provisioning is the User Provisioning settings form. Checkboxes send "on" when ticked and
// nothing otherwise.
type Provisioning struct {
	Method          string `form:"method"`
	InviteManual    string `form:"invite_manual"`
	InviteDirectory string `form:"invite_directory"`
	NotifyDisabled  string `form:"notify_disabled"`
	ExpiryValue     string `form:"code_expiry_value"`
	ExpiryUnit      string `form:"code_expiry_unit"`
	SSOEnabled      string `form:"sso_enabled"`
}
