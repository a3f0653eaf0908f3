package directory

import (
	"context"
	"errors"
	"time"

	"onramp/models"
	"onramp/models/directory/ldap"
)

// SampleSize is how many users Test connection shows.
const SampleSize = 3

// TestTimeout bounds a Test connection: bind, count and sample.
const TestTimeout = 20 * time.Second

// ConnectionTest is what Test connection found: the users the settings select and a sample of
// them as a sync would import them, or why it failed.
type ConnectionTest struct {
	OK     bool
	Total  int
	Sample []ldap.DirectoryUser
	// Problem names the kind of failure (unreachable, credentials, tls, filter, settings,
	// timeout, other); Message explains it to the admin.
	Problem string
	Message string
}

// TestLDAPConnection binds with a directory's saved settings, counts the users they select and
// samples SampleSize of them, within TestTimeout. A failure is in the result, not the error
// (which is for a directory that is not the account's).
func (s *Service) TestLDAPConnection(ctx context.Context, actor *models.Admin, id int64) (*ConnectionTest, error) {
	if err := requireAdmin(actor); err != nil {
		return nil, err
	}
	_, l, err := s.ldapSettings(ctx, s.store, actor.AccountID, id)
	if err != nil {
		return nil, err
	}
	password, err := s.openPassword(l)
	if err != nil {
		return &ConnectionTest{Problem: "settings", Message: "The stored bind password cannot be opened (was ONRAMP_SECRET changed?): enter the password again and save."}, nil
	}
	ctx, cancel := context.WithTimeout(ctx, TestTimeout)
	defer cancel()
	cfg := ldapConfig(l, password)
	cfg.Timeout = TestTimeout / 2
	p, err := preview(ctx, cfg)
	if err != nil {
		return explain(err), nil
	}
	return &ConnectionTest{OK: true, Total: p.Total, Sample: p.Sample}, nil
}

func preview(ctx context.Context, cfg ldap.Config) (ldap.Preview, error) {
	c, err := ldap.Dial(ctx, cfg)
	if err != nil {
		return ldap.Preview{}, err
	}
	defer c.Close()
	return c.Preview(ctx, SampleSize)
}

// explain says in the admin's words why a connection failed, by the kind of error.
func explain(err error) *ConnectionTest {
	t := &ConnectionTest{Problem: "other", Message: "The test failed: " + err.Error()}
	switch {
	case errors.Is(err, ldap.ErrTLS):
		t.Problem = "tls"
		t.Message = "The server's certificate is not trusted: paste the CA certificate that signed it (PEM), or check that the URL's host name is the one in the certificate. " + err.Error()
	case errors.Is(err, ldap.ErrBadCredentials):
		t.Problem = "credentials"
		t.Message = "The server refused the bind DN or password: check both (on Active Directory the bind DN can also be user@domain)."
	case errors.Is(err, ldap.ErrFilter):
		t.Problem = "filter"
		t.Message = "The server cannot read the user filter: " + err.Error()
	case errors.Is(err, ldap.ErrConfig):
		t.Problem = "settings"
		t.Message = "The settings are wrong: " + err.Error()
	case errors.Is(err, ldap.ErrUnreachable):
		t.Problem = "unreachable"
		t.Message = "The server cannot be reached: check the host name, the port (389 for ldap://, 636 for ldaps://) and that a firewall lets this server through. " + err.Error()
	case errors.Is(err, context.DeadlineExceeded):
		t.Problem = "timeout"
		t.Message = "The server did not answer within " + TestTimeout.String() + ": check the URL, or narrow the base DN and filter if the directory is very large."
	}
	return t
}
