package forms

// NewUser is the New user form, and the Edit user form (the same fields).
type NewUser struct {
	FirstName string `form:"first_name"`
	LastName  string `form:"last_name"`
	Email     string `form:"email"`
	Phone     string `form:"phone"`
}

// BulkAction is the Users Actions menu's form; with all_matching=1 it also carries the list's
// filter (users.ParseFilter reads it).
type BulkAction struct {
	Action      string  `form:"action"`
	IDs         []int64 `form:"ids"`
	AllMatching string  `form:"all_matching"`
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
}

// DeviceSelection is the Devices page's sign-out form: the ticked devices; with confirm=1 it
// signs them out. It also carries the list's filter (devices.ParseFilter reads it).
type DeviceSelection struct {
	IDs []int64 `form:"ids"`
}

// Directory is the New SCIM directory form of the Directory Sync tab.
type Directory struct {
	Name string `form:"name"`
}
