package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"gorm.io/gorm/schema"

	"onramp/models"
	"onramp/models/store"
	"onramp/models/store/storetest"
)

// Every persisted model: a new table's model goes here so that its columns are checked.
var persisted = []any{
	&models.Account{},
	&models.Admin{},
	&models.OneTimeToken{},
	&models.Event{},
	&models.SDPUser{},
	&models.RegistrationCode{},
	&models.Run{},
	&models.Device{},
	&models.MailMessage{},
	&models.Directory{},
	&models.DirectoryToken{},
	&models.DirectoryGroup{},
	&models.DirectoryGroupMember{},
	&models.ClientLogin{},
	&models.ConsoleSSO{},
	&models.SSOSettings{},
	&models.SSOLogin{},
	&models.StreamDestination{},
	&models.StreamFilter{},
	&models.StreamAttempt{},
	&models.APIToken{},
	&models.APIIdempotencyKey{},
}

func TestMigratedSchemaHasEveryModelColumn(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	ctx := context.Background()
	m, err := s.Migrator()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	db := store.GormForTest(s)
	for _, model := range persisted {
		sch, err := schema.Parse(model, &sync.Map{}, db.NamingStrategy)
		if err != nil {
			t.Fatal(err)
		}
		if !db.Migrator().HasTable(sch.Table) {
			t.Errorf("%s: no table %s", s.Dialect(), sch.Table)
			continue
		}
		for _, f := range sch.Fields {
			// A field that is never written (gorm:"->") is computed by the queries that read it.
			if f.DBName != "" && (f.Creatable || f.Updatable) && !db.Migrator().HasColumn(model, f.DBName) {
				t.Errorf("%s: table %s lacks column %s (field %s)", s.Dialect(), sch.Table, f.DBName, f.Name)
			}
		}
	}
}

// The events search scans its rows by hand: it reads every column of an event.
func TestEventSearchReadsEveryEventColumn(t *testing.T) {
	sch, err := schema.Parse(&models.Event{}, &sync.Map{}, schema.NamingStrategy{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := store.EventColumnsForTest, strings.Join(sch.DBNames, ", "); got != want {
		t.Fatalf("the events search reads %q, the model has %q", got, want)
	}
}

// The session tables have no model of their own (models.Session serves both): each must have
// models.Session's columns, its owner's column standing for OwnerID.
func TestSessionTablesHaveEverySessionColumn(t *testing.T) {
	t.Parallel()
	s := storetest.Open(t)
	db := store.GormForTest(s)
	sch, err := schema.Parse(&models.Session{}, &sync.Map{}, db.NamingStrategy)
	if err != nil {
		t.Fatal(err)
	}
	for table, owner := range map[string]string{"admin_sessions": "admin_id", "portal_sessions": "sdp_user_id"} {
		for _, f := range sch.Fields {
			col := f.DBName
			if col == "owner_id" {
				col = owner
			}
			if !db.Migrator().HasColumn(table, col) {
				t.Errorf("%s: table %s lacks column %s (field %s)", s.Dialect(), table, col, f.Name)
			}
		}
	}
}

func TestServeRefusesUnknownSchema(t *testing.T) {
	t.Parallel()
	s := storetest.OpenUnmigrated(t)
	ctx := context.Background()
	m, err := s.Migrator()
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Check(ctx); err == nil {
		t.Fatal("an empty schema passed the check")
	}
	if _, err := m.Up(ctx); err != nil {
		t.Fatal(err)
	}
	if err := m.Check(ctx); err != nil {
		t.Fatal(err)
	}
	// A version from a newer binary.
	if err := store.GormForTest(s).Exec("INSERT INTO goose_db_version (version_id, is_applied) VALUES (99999, true)").Error; err != nil {
		t.Fatal(err)
	}
	if err := m.Check(ctx); err == nil {
		t.Fatal("a schema from a newer binary passed the check")
	}
}
