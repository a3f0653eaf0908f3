package directory

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"onramp/models"
	"onramp/models/store"
)

// SchemaGroup is the core Group schema of RFC 7643.
const SchemaGroup = "urn:ietf:params:scim:schemas:core:2.0:Group"

// Group is the SCIM Group resource: a displayName (unique in the directory
// case-insensitively), an externalId and members, which are users of the account by SCIM id.
type Group struct {
	Schemas     []string `json:"schemas"`
	ID          string   `json:"id,omitempty"`
	ExternalID  *string  `json:"externalId,omitempty"`
	DisplayName string   `json:"displayName"`
	Members     []Member `json:"members,omitempty"`
	Meta        *Meta    `json:"meta,omitempty"`
}

// Member is one member of a group: value is the user's SCIM id.
type Member struct {
	Value   string `json:"value"`
	Display string `json:"display,omitempty"`
	Ref     string `json:"$ref,omitempty"`
}

// groupState is a group being changed: its attributes and its members' user ids in order.
type groupState struct {
	name    string
	extID   *string
	members []int64
}

func groupResource(g *models.DirectoryGroup, members []models.SDPUser) *Group {
	r := &Group{Schemas: []string{SchemaGroup}, ID: strconv.FormatInt(g.ID, 10), ExternalID: g.ExternalID, DisplayName: g.DisplayName,
		Meta: &Meta{ResourceType: "Group", Created: g.CreatedAt, LastModified: g.UpdatedAt}}
	for i := range members {
		r.Members = append(r.Members, Member{Value: strconv.FormatInt(members[i].ID, 10), Display: members[i].Email})
	}
	return r
}

func groupNotFound(err error, id string) error {
	if errors.Is(err, models.ErrNotFound) {
		return &Error{Status: 404, Detail: "Group " + id + " not found."}
	}
	return err
}

func groupConflict(err error) error {
	if errors.Is(err, models.ErrConflict) {
		return &Error{Status: 409, Type: "uniqueness", Detail: "A group with this displayName already exists."}
	}
	return err
}

func parseGroupID(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, groupNotFound(models.ErrNotFound, id)
	}
	return n, nil
}

// ParseGroupFilter reads the filter of a /Groups list: only `displayName eq "…"` (what Okta
// and Entra ID send); anything else is 400 invalidFilter.
func ParseGroupFilter(s string) (*string, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	bad := &Error{Status: 400, Type: "invalidFilter", Detail: `Unsupported filter: use displayName eq "…".`}
	toks, err := lex(s)
	if err != nil || len(toks) != 3 || toks[0].quoted || !toks[2].quoted ||
		!strings.EqualFold(stripGroupURN(toks[0].text), "displayName") || !strings.EqualFold(toks[1].text, "eq") {
		return nil, bad
	}
	return &toks[2].text, nil
}

// stripGroupURN removes the core Group schema's URN from an attribute path.
func stripGroupURN(path string) string {
	const urn = SchemaGroup + ":"
	if len(path) > len(urn) && strings.EqualFold(path[:len(urn)], urn) {
		return path[len(urn):]
	}
	return path
}

// ListGroups returns the directory's groups matching filter in creation order, from the
// 1-based startIndex, at most count; withMembers false leaves members out
// (excludedAttributes=members, which Entra ID asks for).
func (s *Service) ListGroups(ctx context.Context, d *models.Directory, filter string, startIndex, count int, withMembers bool) (*ListResponse[*Group], error) {
	name, err := ParseGroupFilter(filter)
	if err != nil {
		return nil, err
	}
	startIndex = max(startIndex, 1)
	count = min(max(count, 0), MaxResults)
	gs, total, err := s.store.Groups(ctx, d.AccountID, d.ID, name, startIndex-1, count)
	if err != nil {
		return nil, err
	}
	out := &ListResponse[*Group]{Schemas: []string{SchemaList}, TotalResults: total, StartIndex: startIndex, ItemsPerPage: len(gs), Resources: []*Group{}}
	for i := range gs {
		var members []models.SDPUser
		if withMembers {
			if members, err = s.store.GroupMembers(ctx, d.AccountID, gs[i].ID); err != nil {
				return nil, err
			}
		}
		out.Resources = append(out.Resources, groupResource(&gs[i], members))
	}
	return out, nil
}

// GetGroup returns one of the directory's groups by SCIM id; withMembers false leaves the
// members out (excludedAttributes=members, which Entra ID asks for).
func (s *Service) GetGroup(ctx context.Context, d *models.Directory, id string, withMembers bool) (*Group, error) {
	n, err := parseGroupID(id)
	if err != nil {
		return nil, err
	}
	return s.loadGroup(ctx, s.store, d, n, id, withMembers)
}

func (s *Service) loadGroup(ctx context.Context, tx *store.Store, d *models.Directory, n int64, id string, withMembers bool) (*Group, error) {
	g, err := tx.Group(ctx, d.AccountID, d.ID, n)
	if err != nil {
		return nil, groupNotFound(err, id)
	}
	var members []models.SDPUser
	if withMembers {
		if members, err = tx.GroupMembers(ctx, d.AccountID, g.ID); err != nil {
			return nil, err
		}
	}
	return groupResource(g, members), nil
}

// CreateGroup adds a group (POST /Groups); a displayName the directory has is 409 uniqueness.
// A Group / Created event names it and its first members.
func (s *Service) CreateGroup(ctx context.Context, d *models.Directory, ip string, in *Group) (*Group, error) {
	st, err := in.state()
	if err != nil {
		return nil, err
	}
	var out *Group
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		members, err := s.memberUsers(ctx, tx, d, st.members)
		if err != nil {
			return err
		}
		now := s.now()
		g := &models.DirectoryGroup{AccountID: d.AccountID, DirectoryID: d.ID, DisplayName: st.name, ExternalID: st.extID, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateGroup(ctx, g); err != nil {
			return groupConflict(err)
		}
		if err := tx.AddGroupMembers(ctx, d.AccountID, g.ID, userIDs(members)); err != nil {
			return err
		}
		details := map[string]string{"members": strconv.Itoa(len(members))}
		if len(members) > 0 {
			details["names"] = firstNames(members)
		}
		if err := tx.CreateEvent(ctx, groupEvent(d, ip, models.SubGroupCreated, g.DisplayName, details)); err != nil {
			return err
		}
		out, err = s.loadGroup(ctx, tx, d, g.ID, strconv.FormatInt(g.ID, 10), true)
		return err
	})
	return out, err
}

// ReplaceGroup is PUT /Groups/{id}: displayName, externalId and the members are replaced.
func (s *Service) ReplaceGroup(ctx context.Context, d *models.Directory, ip, id string, in *Group) (*Group, error) {
	st, err := in.state()
	if err != nil {
		return nil, err
	}
	return s.changeGroup(ctx, d, ip, id, func(cur *groupState) error {
		*cur = st
		return nil
	})
}

// PatchGroup is PATCH /Groups/{id}.
func (s *Service) PatchGroup(ctx context.Context, d *models.Directory, ip, id string, req *PatchRequest) (*Group, error) {
	return s.changeGroup(ctx, d, ip, id, req.applyGroup)
}

// DeleteGroup is DELETE /Groups/{id}: the group and its memberships go, the users stay. A
// Group / Deleted event says how many members it had.
func (s *Service) DeleteGroup(ctx context.Context, d *models.Directory, ip, id string) error {
	n, err := parseGroupID(id)
	if err != nil {
		return err
	}
	return s.store.Tx(ctx, func(tx *store.Store) error {
		g, members, err := groupWithMembers(ctx, tx, d, n, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteGroup(ctx, d.AccountID, d.ID, g.ID); err != nil {
			return groupNotFound(err, id)
		}
		return tx.CreateEvent(ctx, groupEvent(d, ip, models.SubGroupDeleted, g.DisplayName,
			map[string]string{"members": strconv.Itoa(len(members))}))
	})
}

// changeGroup applies change to a group in one transaction. Only the difference is written:
// the members who joined and those who left (a large group gaining one member costs one row),
// each kind of change with one event: Renamed, Members Added, Members Removed.
func (s *Service) changeGroup(ctx context.Context, d *models.Directory, ip, id string, change func(*groupState) error) (*Group, error) {
	n, err := parseGroupID(id)
	if err != nil {
		return nil, err
	}
	var out *Group
	err = s.store.Tx(ctx, func(tx *store.Store) error {
		g, before, err := groupWithMembers(ctx, tx, d, n, id)
		if err != nil {
			return err
		}
		was := userIDs(before) // in id order, as GroupMembers returns them
		st := groupState{name: g.DisplayName, extID: g.ExternalID, members: slices.Clone(was)}
		if err := change(&st); err != nil {
			return err
		}
		if strings.TrimSpace(st.name) == "" {
			return &Error{Status: 400, Type: "invalidValue", Detail: "displayName is required."}
		}
		after := slices.Compact(slices.Sorted(slices.Values(st.members)))
		var joined []int64
		for _, uid := range after {
			if _, found := slices.BinarySearch(was, uid); !found {
				joined = append(joined, uid)
			}
		}
		added, err := s.memberUsers(ctx, tx, d, joined)
		if err != nil {
			return err
		}
		left := slices.DeleteFunc(slices.Clone(before), func(u models.SDPUser) bool {
			_, found := slices.BinarySearch(after, u.ID)
			return found
		})
		oldName := g.DisplayName
		g.DisplayName, g.ExternalID, g.UpdatedAt = st.name, st.extID, s.now()
		if err := tx.SaveGroup(ctx, g); err != nil {
			return groupConflict(err)
		}
		if len(left) > 0 {
			if err := tx.RemoveGroupMembers(ctx, d.AccountID, g.ID, userIDs(left)); err != nil {
				return err
			}
		}
		if err := tx.AddGroupMembers(ctx, d.AccountID, g.ID, userIDs(added)); err != nil {
			return err
		}
		var events []*models.Event
		if g.DisplayName != oldName {
			events = append(events, groupEvent(d, ip, models.SubGroupRenamed, g.DisplayName, map[string]string{"from": oldName}))
		}
		for _, ch := range []struct {
			sub   string
			users []models.SDPUser
		}{{models.SubGroupMembersAdded, added}, {models.SubGroupMembersRemoved, left}} {
			if len(ch.users) > 0 {
				events = append(events, groupEvent(d, ip, ch.sub, g.DisplayName,
					map[string]string{"count": strconv.Itoa(len(ch.users)), "names": firstNames(ch.users)}))
			}
		}
		for _, e := range events {
			if err := tx.CreateEvent(ctx, e); err != nil {
				return err
			}
		}
		out, err = s.loadGroup(ctx, tx, d, g.ID, id, true)
		return err
	})
	return out, err
}

// groupWithMembers reads one of the directory's groups and its members (in id order).
func groupWithMembers(ctx context.Context, tx *store.Store, d *models.Directory, n int64, id string) (*models.DirectoryGroup, []models.SDPUser, error) {
	g, err := tx.Group(ctx, d.AccountID, d.ID, n)
	if err != nil {
		return nil, nil, groupNotFound(err, id)
	}
	members, err := tx.GroupMembers(ctx, d.AccountID, g.ID)
	return g, members, err
}

// memberBatch is how many users one query reads: a group PUT may name tens of thousands.
const memberBatch = 1000

// memberUsers returns the users of the account with the given ids, which must all be users of
// the account: an unknown id is 400 invalidValue (RFC 7644 §3.12), since ignoring it would
// report success for a member the group does not have.
func (s *Service) memberUsers(ctx context.Context, tx *store.Store, d *models.Directory, ids []int64) ([]models.SDPUser, error) {
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	if len(ids) == 0 {
		return nil, nil
	}
	var us []models.SDPUser
	for chunk := range slices.Chunk(ids, memberBatch) {
		part, err := tx.UsersByIDs(ctx, d.AccountID, chunk)
		if err != nil {
			return nil, err
		}
		us = append(us, part...)
	}
	if len(us) != len(ids) {
		known := map[int64]bool{}
		for _, u := range us {
			known[u.ID] = true
		}
		for _, id := range ids {
			if !known[id] {
				return nil, unknownMember(strconv.FormatInt(id, 10))
			}
		}
	}
	return us, nil
}

func userIDs(us []models.SDPUser) []int64 {
	ids := make([]int64, len(us))
	for i := range us {
		ids[i] = us[i].ID
	}
	return ids
}

// shownNames is how many members a group event names.
const shownNames = 5

// firstNames names the first few users by email, and says how many more there are.
func firstNames(us []models.SDPUser) string {
	var names []string
	for i := range us[:min(len(us), shownNames)] {
		names = append(names, us[i].Email)
	}
	out := strings.Join(names, ", ")
	if len(us) > shownNames {
		out += " and " + strconv.Itoa(len(us)-shownNames) + " more"
	}
	return out
}

// groupEvent is a Group event of a directory's request: details name the directory and the
// group (by its name now).
func groupEvent(d *models.Directory, ip, sub, name string, details map[string]string) *models.Event {
	details["directory"], details["group"] = d.Name, name
	return models.NewEvent(&d.AccountID, models.EventGroup, sub, d.Actor(ip), "", details)
}

func unknownMember(v string) error {
	return &Error{Status: 400, Type: "invalidValue", Detail: "Member " + v + " is not a user of this account."}
}

// state is a full Group (POST, PUT) as a groupState.
func (g *Group) state() (groupState, error) {
	if strings.TrimSpace(g.DisplayName) == "" {
		return groupState{}, &Error{Status: 400, Type: "invalidValue", Detail: "displayName is required."}
	}
	st := groupState{name: strings.TrimSpace(g.DisplayName), extID: g.ExternalID}
	ids, err := memberIDs(g.Members)
	st.members = ids
	return st, err
}

// memberIDs reads members' values as user ids; one that cannot be a user id is invalidValue.
func memberIDs(ms []Member) ([]int64, error) {
	var ids []int64
	for _, m := range ms {
		n, err := strconv.ParseInt(strings.TrimSpace(m.Value), 10, 64)
		if err != nil || n <= 0 {
			return nil, unknownMember(m.Value)
		}
		ids = append(ids, n)
	}
	return ids, nil
}

// memberFilter matches Okta's members[value eq "…"] path (lower-cased first).
var memberFilter = regexp.MustCompile(`^members\[value eq "([^"]*)"\]$`)

// applyGroup runs the operations on a group in order. Ops are read in any case. members takes
// a value list: add adds them, replace sets them, remove removes them (or every member when
// there is no value, as RFC 7644 §3.5.2.2 says of removing an attribute); members[value eq
// "…"] removes one. A path-less add or replace takes an object of attributes. Attributes
// Onramp does not keep (Okta repeats the id) are ignored.
func (r *PatchRequest) applyGroup(st *groupState) error {
	for _, op := range r.Operations {
		kind := strings.ToLower(op.Op)
		if kind != "add" && kind != "replace" && kind != "remove" {
			return &Error{Status: 400, Type: "invalidSyntax", Detail: "Unknown PATCH op " + op.Op + "."}
		}
		if op.Path == "" && kind != "remove" {
			var m map[string]json.RawMessage
			if err := json.Unmarshal(op.Value, &m); err != nil {
				return &Error{Status: 400, Type: "invalidSyntax", Detail: "A PATCH op without a path needs an object value."}
			}
			for k, v := range m {
				if err := st.set(kind, k, v); err != nil {
					return err
				}
			}
			continue
		}
		if err := st.set(kind, op.Path, op.Value); err != nil {
			return err
		}
	}
	return nil
}

func (st *groupState) set(kind, path string, v json.RawMessage) error {
	name := strings.ToLower(stripGroupURN(strings.TrimSpace(path)))
	if m := memberFilter.FindStringSubmatch(name); m != nil {
		if kind != "remove" {
			return &Error{Status: 400, Type: "invalidPath", Detail: "Only remove takes a members[value eq …] path."}
		}
		st.remove([]Member{{Value: m[1]}})
		return nil
	}
	switch name {
	case "displayname":
		if kind == "remove" {
			return &Error{Status: 400, Type: "invalidValue", Detail: "displayName is required."}
		}
		if err := json.Unmarshal(v, &st.name); err != nil {
			return &Error{Status: 400, Type: "invalidValue", Detail: "Expected a string for displayName."}
		}
		st.name = strings.TrimSpace(st.name)
	case "externalid":
		if kind == "remove" {
			st.extID = nil
			return nil
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return &Error{Status: 400, Type: "invalidValue", Detail: "Expected a string for externalId."}
		}
		st.extID = &s
	case "members":
		var ms []Member
		if len(v) > 0 && string(v) != "null" {
			if err := json.Unmarshal(v, &ms); err != nil {
				return &Error{Status: 400, Type: "invalidValue", Detail: "Expected a list of members."}
			}
		}
		switch {
		case kind == "remove" && ms == nil:
			st.members = nil
		case kind == "remove":
			st.remove(ms)
		default:
			ids, err := memberIDs(ms)
			if err != nil {
				return err
			}
			if kind == "replace" {
				st.members = nil
			}
			st.members = append(st.members, ids...)
		}
	}
	return nil
}

// remove drops the members whose values are given; values that are not members are ignored
// (removing what is already gone is no error).
func (st *groupState) remove(ms []Member) {
	for _, m := range ms {
		st.members = slices.DeleteFunc(st.members, func(id int64) bool { return strconv.FormatInt(id, 10) == strings.TrimSpace(m.Value) })
	}
}
