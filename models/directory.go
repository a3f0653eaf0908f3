package models

import "time"

// DirectoryKind is how a directory reaches Onramp: it pushes users (SCIM) or Onramp pulls
// them (LDAP).
type DirectoryKind string

const (
	DirectorySCIM DirectoryKind = "scim"
	DirectoryLDAP DirectoryKind = "ldap"
)

// Directory is an identity source of an account (Access > Directory Services > Directory
// Sync). Its users have the origin "directory:<name>".
type Directory struct {
	ID        int64
	AccountID int64
	Name      string
	Kind      DirectoryKind
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Origin is the origin of the users this directory creates.
func (d *Directory) Origin() string { return "directory:" + d.Name }

// Actor is the directory as the actor of the events its requests cause.
func (d *Directory) Actor(ip string) Actor {
	id := d.ID
	return Actor{Type: ActorDirectory, ID: &id, Label: d.Name, IP: ip}
}

// DirectoryToken is a SCIM bearer token: only its hash is stored (shown once at creation).
type DirectoryToken struct {
	ID          int64
	AccountID   int64
	DirectoryID int64
	Name        string
	TokenHash   string
	CreatedAt   time.Time
	LastUsedAt  *time.Time
	LastUsedIP  string
	RevokedAt   *time.Time
}

// DirectoryGroup is a group a SCIM directory pushes; its members are users of the account.
type DirectoryGroup struct {
	ID          int64
	AccountID   int64
	DirectoryID int64
	DisplayName string
	ExternalID  *string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// DirectoryGroupMember is one user's membership of a group.
type DirectoryGroupMember struct {
	AccountID int64
	GroupID   int64 `gorm:"primaryKey;autoIncrement:false"`
	UserID    int64 `gorm:"primaryKey;autoIncrement:false"`
}

// LDAPSettings is how Onramp reaches an LDAP directory and what it reads from it (one per
// directory of kind ldap). PasswordSealed is the bind password sealed with the directory id
// as associated data; it is never shown again.
type LDAPSettings struct {
	DirectoryID    int64 `gorm:"primaryKey;autoIncrement:false"`
	AccountID      int64
	URL            string
	StartTLS       bool
	CAPEM          string `gorm:"column:ca_pem"`
	SkipVerify     bool
	BindDN         string `gorm:"column:bind_dn"`
	PasswordSealed string
	BaseDN         string `gorm:"column:base_dn"`
	UserFilter     string
	GroupDN        string `gorm:"column:group_dn"`
	Preset         string // ad or openldap: the mapping's starting point
	AttrID         string // the stable id: objectGUID (AD) or entryUUID (OpenLDAP)
	AttrEmail      string
	AttrFirstName  string
	AttrLastName   string
	AttrPhone      string
	DisabledAttr   string // other directories: users with this attribute equal to DisabledValue are disabled
	DisabledValue  string
	ScheduleHours  int // 0: only Sync now and the command line
	LimitCount     int // a sync may disable or delete at most this many users...
	LimitPercent   int // ...and at most this percentage of the directory's users
	NextSyncAt     *time.Time
	CreatedAt      time.Time
	UpdatedAt      time.Time
}

// TableName is the table of LDAP settings.
func (LDAPSettings) TableName() string { return "directory_ldap" }

// SyncCause is what started a directory sync.
type SyncCause string

const (
	SyncManual   SyncCause = "manual"   // Sync now on the Directory Sync tab
	SyncSchedule SyncCause = "schedule" // the directory's schedule
	SyncCLI      SyncCause = "cli"      // onramp directory sync
	SyncApproval SyncCause = "approval" // an admin approved a sync a safety limit stopped
)

// SyncStatus is where a directory sync is.
type SyncStatus string

const (
	SyncQueued  SyncStatus = "queued"
	SyncRunning SyncStatus = "running"
	SyncDone    SyncStatus = "done"
	SyncFailed  SyncStatus = "failed"  // unreachable, bad credentials, zero users...: nothing changed
	SyncBlocked SyncStatus = "blocked" // a safety limit tripped: nothing changed until an admin approves
)

// DirectorySync is one sync of an LDAP directory: progress while it runs, then its outcome.
type DirectorySync struct {
	ID          int64
	AccountID   int64
	DirectoryID int64
	Cause       SyncCause
	Status      SyncStatus
	Seen        int // directory users read so far
	Total       int // directory users found (known once the search is done)
	Created     int
	Updated     int
	Disabled    int
	Deleted     int
	Unchanged   int
	Skipped     int    // directory entries left out (no stable id, no usable email, an email another user has)
	SkipReasons string // why, for the page and the Finished event ("" when none was skipped)
	Error       string
	Approved    bool // this sync may exceed the safety limits (an admin approved it)
	AdminID     *int64
	ActorType   ActorType
	ActorLabel  string
	SourceIP    string
	CreatedAt   time.Time
	StartedAt   *time.Time
	FinishedAt  *time.Time
	UpdatedAt   time.Time
}

// Open reports whether the sync is still to finish.
func (s *DirectorySync) Open() bool { return s.Status == SyncQueued || s.Status == SyncRunning }

// Actor is who started the sync.
func (s *DirectorySync) Actor() Actor {
	return Actor{Type: s.ActorType, ID: s.AdminID, Label: s.ActorLabel, IP: s.SourceIP}
}
