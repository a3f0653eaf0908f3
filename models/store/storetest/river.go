package storetest

import (
	"testing"
	"time"

	"onramp/migrations"
	"onramp/models/store"
)

// AbandonJobs leaves the River jobs of a kind as a server killed during their attempt (kill -9)
// leaves them: running, attempted ago, with no worker left to finish them. Only River's rescuer
// takes them up again.
func AbandonJobs(t testing.TB, s *store.Store, kind string, ago time.Duration) {
	t.Helper()
	at := time.Now().Add(-ago).UTC()
	q := "UPDATE river_job SET state = 'running', attempt = attempt + 1, attempted_at = $1 WHERE kind = $2"
	args := []any{at, kind}
	if s.Dialect() == migrations.SQLite {
		// River's SQLite driver compares times as text in this one format.
		q = "UPDATE river_job SET state = 'running', attempt = attempt + 1, attempted_at = ? WHERE kind = ?"
		args[0] = at.Format("2006-01-02 15:04:05.000")
	}
	res, err := s.SQLDB().Exec(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		t.Fatalf("storetest: no %s job to abandon", kind)
	}
}
