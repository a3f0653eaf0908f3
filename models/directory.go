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
