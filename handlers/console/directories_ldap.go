package console

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"onramp/handlers/forms"
	"onramp/handlers/web"
	"onramp/models"
	"onramp/models/directory"
	"onramp/views"
	dirpages "onramp/views/pages/directories"
)

// LDAPNew serves GET /access/directory-services/directories/ldap/new: the New LDAP directory
// form, its mapping filled from the preset named by ?preset= (ad by default).
func (h *Handler) LDAPNew(c echo.Context) error {
	return h.renderLDAP(c, http.StatusOK, 0, formOf(directory.NewLDAPInput(c.QueryParam("preset"))), nil, nil)
}

// LDAPCreate serves POST /access/directory-services/directories/ldap: a field error re-renders
// the form with what was typed (422); a new directory opens its edit page, to test it.
func (h *Handler) LDAPCreate(c echo.Context) error {
	var f forms.LDAPDirectory
	if err := c.Bind(&f); err != nil {
		return err
	}
	cur := current(c)
	d, err := h.Directory.CreateLDAPDirectory(c.Request().Context(), cur.Admin, c.RealIP(), ldapInput(f))
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return h.renderLDAP(c, http.StatusUnprocessableEntity, 0, f, ve.Fields, nil)
	}
	if err != nil {
		return err
	}
	return h.flashRedirect(c, views.FlashSuccess, "LDAP directory "+d.Name+" is created. Test the connection before the first sync.",
		c.Echo().Reverse("directories.ldap.edit", d.ID))
}

// LDAPEdit serves GET /access/directory-services/directories/:id/edit.
func (h *Handler) LDAPEdit(c echo.Context) error {
	ld, err := h.ldapDirectory(c)
	if err != nil {
		return err
	}
	return h.renderLDAP(c, http.StatusOK, ld.Directory.ID, formOf(ld.Input), nil, nil)
}

// LDAPUpdate serves POST /access/directory-services/directories/:id/edit; an empty password
// keeps the stored one.
func (h *Handler) LDAPUpdate(c echo.Context) error {
	ld, err := h.ldapDirectory(c)
	if err != nil {
		return err
	}
	var f forms.LDAPDirectory
	if err := c.Bind(&f); err != nil {
		return err
	}
	f.Name = ld.Directory.Name
	changed, err := h.Directory.UpdateLDAPDirectory(c.Request().Context(), current(c).Admin, c.RealIP(), ld.Directory.ID, ldapInput(f))
	var ve *models.ValidationError
	if errors.As(err, &ve) {
		return h.renderLDAP(c, http.StatusUnprocessableEntity, ld.Directory.ID, f, ve.Fields, nil)
	}
	if err != nil {
		return err
	}
	back := c.Echo().Reverse("directories.ldap.edit", ld.Directory.ID)
	if !changed {
		return h.flashRedirect(c, views.FlashInfo, "No change to save.", back)
	}
	return h.flashRedirect(c, views.FlashSuccess, "The settings of "+ld.Directory.Name+" are saved.", back)
}

// LDAPTest serves POST /access/directory-services/directories/:id/test: Test connection with
// the saved settings; the result alone for htmx, else on the edit page.
func (h *Handler) LDAPTest(c echo.Context) error {
	ld, err := h.ldapDirectory(c)
	if err != nil {
		return err
	}
	t, err := h.Directory.TestLDAPConnection(c.Request().Context(), current(c).Admin, ld.Directory.ID)
	if err != nil {
		return err
	}
	res := testView(t)
	if web.IsHTMX(c) {
		return web.Render(c, http.StatusOK, dirpages.LDAPTestResult(res))
	}
	return h.renderLDAP(c, http.StatusOK, ld.Directory.ID, formOf(ld.Input), nil, &res)
}

func (h *Handler) ldapDirectory(c echo.Context) (*directory.LDAPDirectory, error) {
	id, err := web.ID(c, "id")
	if err != nil {
		return nil, err
	}
	return h.Directory.LDAPDirectory(c.Request().Context(), current(c).Admin, id)
}

// renderLDAP shows the LDAP form: new when id is 0, else the edit form of directory id.
func (h *Handler) renderLDAP(c echo.Context, status int, id int64, f forms.LDAPDirectory, errs map[string]string, test *dirpages.TestResult) error {
	e := c.Echo()
	v := dirpages.LDAPForm{Name: f.Name, Preset: f.Preset, URL: f.URL, StartTLS: f.StartTLS == "on", CAPEM: f.CAPEM, SkipVerify: f.SkipVerify == "on",
		BindDN: f.BindDN, BaseDN: f.BaseDN, UserFilter: f.UserFilter, GroupDN: f.GroupDN,
		AttrID: f.AttrID, AttrEmail: f.AttrEmail, AttrFirstName: f.AttrFirstName, AttrLastName: f.AttrLastName, AttrPhone: f.AttrPhone,
		DisabledAttr: f.DisabledAttr, DisabledValue: f.DisabledValue,
		ScheduleHours: f.ScheduleHours, LimitCount: f.LimitCount, LimitPercent: f.LimitPercent,
		FilterPlaceholder: directory.DefaultFilter(f.Preset), Errors: errs, CancelURL: e.Reverse("directories"), Test: test}
	if id == 0 {
		v.Action = e.Reverse("directories.ldap.create")
		v.ADURL = e.Reverse("directories.ldap.new") + "?preset=ad"
		v.OpenLDAPURL = e.Reverse("directories.ldap.new") + "?preset=openldap"
	} else {
		v.Editing = true
		v.Action = e.Reverse("directories.ldap.update", id)
		v.TestURL = e.Reverse("directories.ldap.test", id)
		syncs, err := h.Directory.DirectorySyncs(c.Request().Context(), current(c).Admin, id, recentSyncs)
		if err != nil {
			return err
		}
		v.Syncs = syncRows(c, syncs)
	}
	title := "New LDAP directory"
	if v.Editing {
		title = "Edit " + v.Name
	}
	return web.Render(c, status, dirpages.LDAPPage(h.page(c, title, "provisioning"), v))
}

// ldapInput reads the form; a number that does not parse is -1, which the service refuses
// with the field's message.
func ldapInput(f forms.LDAPDirectory) directory.LDAPInput {
	return directory.LDAPInput{Name: f.Name, Preset: f.Preset, URL: f.URL, StartTLS: f.StartTLS == "on", CAPEM: f.CAPEM,
		SkipVerify: f.SkipVerify == "on", BindDN: f.BindDN, Password: f.Password, BaseDN: f.BaseDN, UserFilter: f.UserFilter,
		GroupDN: f.GroupDN, AttrID: f.AttrID, AttrEmail: f.AttrEmail, AttrFirstName: f.AttrFirstName, AttrLastName: f.AttrLastName,
		AttrPhone: f.AttrPhone, DisabledAttr: f.DisabledAttr, DisabledValue: f.DisabledValue,
		ScheduleHours: number(f.ScheduleHours, 0), LimitCount: number(f.LimitCount, -1), LimitPercent: number(f.LimitPercent, -1)}
}

func number(s string, empty int) int {
	s = strings.TrimSpace(s)
	if s == "" {
		return empty
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return -1
	}
	return n
}

// formOf is the form of saved (or default) settings: never a password.
func formOf(in directory.LDAPInput) forms.LDAPDirectory {
	on := func(b bool) string {
		if b {
			return "on"
		}
		return ""
	}
	return forms.LDAPDirectory{Name: in.Name, Preset: in.Preset, URL: in.URL, StartTLS: on(in.StartTLS), CAPEM: in.CAPEM, SkipVerify: on(in.SkipVerify),
		BindDN: in.BindDN, BaseDN: in.BaseDN, UserFilter: in.UserFilter, GroupDN: in.GroupDN,
		AttrID: in.AttrID, AttrEmail: in.AttrEmail, AttrFirstName: in.AttrFirstName, AttrLastName: in.AttrLastName, AttrPhone: in.AttrPhone,
		DisabledAttr: in.DisabledAttr, DisabledValue: in.DisabledValue,
		ScheduleHours: strconv.Itoa(in.ScheduleHours), LimitCount: strconv.Itoa(in.LimitCount), LimitPercent: strconv.Itoa(in.LimitPercent)}
}

func testView(t *directory.ConnectionTest) dirpages.TestResult {
	v := dirpages.TestResult{OK: t.OK, Total: t.Total, Problem: t.Problem, Message: t.Message}
	for _, u := range t.Sample {
		v.Sample = append(v.Sample, dirpages.SampleUser{ID: u.ID, DN: u.DN, Email: u.Email, FirstName: u.FirstName, LastName: u.LastName, Phone: u.Phone, Disabled: u.Disabled})
	}
	return v
}
