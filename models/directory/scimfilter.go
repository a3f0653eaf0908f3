package directory

import (
	"encoding/json"
	"strings"

	"onramp/models/store"
)

// ParseUserFilter reads the filter of a /Users list: `eq` on userName (case-insensitive),
// externalId and emails[type eq "work"].value, joined by `and`, optionally
// in parentheses. A value is a JSON string; a bare word is read as a string too, since
// Microsoft's own example sends `externalId eq jyoung`. Anything else is a 400 invalidFilter
// that says what is supported: the identity providers only send these, and a filter silently
// widened would list every user.
func ParseUserFilter(s string) (store.DirectoryUserFilter, error) {
	var f store.DirectoryUserFilter
	if strings.TrimSpace(s) == "" {
		return f, nil
	}
	toks, err := lex(s)
	if err != nil {
		return f, err
	}
	p := &filterParser{toks: toks, f: &f}
	if err := p.expr(); err != nil {
		return f, err
	}
	if p.i != len(p.toks) {
		return f, badFilter("unexpected " + p.toks[p.i].text)
	}
	return f, nil
}

func badFilter(why string) error {
	return &Error{Status: 400, Type: "invalidFilter", Detail: "Unsupported filter (" + why + "): use eq on userName, externalId or " +
		`emails[type eq "work"].value, joined by and.`}
}

type token struct {
	text   string
	quoted bool
}

// lex splits a filter into words, brackets, parentheses and JSON string literals.
func lex(s string) ([]token, error) {
	var out []token
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t':
			i++
		case c == '(' || c == ')' || c == '[' || c == ']':
			out = append(out, token{text: string(c)})
			i++
		case c == '"':
			j := i + 1
			for j < len(s) && s[j] != '"' {
				if s[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(s) {
				return nil, badFilter("unterminated string")
			}
			var v string
			if err := json.Unmarshal([]byte(s[i:j+1]), &v); err != nil {
				return nil, badFilter("bad string")
			}
			out = append(out, token{text: v, quoted: true})
			i = j + 1
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t()[]\"", rune(s[j])) {
				j++
			}
			out = append(out, token{text: s[i:j]})
			i = j
		}
	}
	return out, nil
}

type filterParser struct {
	toks []token
	i    int
	f    *store.DirectoryUserFilter
}

func (p *filterParser) next() (token, bool) {
	if p.i >= len(p.toks) {
		return token{}, false
	}
	t := p.toks[p.i]
	p.i++
	return t, true
}

func (p *filterParser) word(want string) error {
	t, ok := p.next()
	if !ok || t.quoted || !strings.EqualFold(t.text, want) {
		return badFilter("expected " + want)
	}
	return nil
}

func (p *filterParser) expr() error {
	for {
		if err := p.term(); err != nil {
			return err
		}
		if p.i == len(p.toks) || p.toks[p.i].text == ")" {
			return nil
		}
		if err := p.word("and"); err != nil {
			return err
		}
	}
}

func (p *filterParser) term() error {
	if p.i < len(p.toks) && p.toks[p.i].text == "(" && !p.toks[p.i].quoted {
		p.i++
		if err := p.expr(); err != nil {
			return err
		}
		return p.word(")")
	}
	attr, ok := p.next()
	if !ok || attr.quoted {
		return badFilter("expected an attribute")
	}
	name := strings.ToLower(stripURN(attr.text))
	if name == "emails" && p.i < len(p.toks) && p.toks[p.i].text == "[" {
		p.i++
		if err := p.workType(); err != nil {
			return err
		}
		if err := p.word("]"); err != nil {
			return err
		}
		if err := p.word(".value"); err != nil {
			return err
		}
		name = "emails.value"
	}
	if err := p.word("eq"); err != nil {
		return err
	}
	v, ok := p.next()
	if !ok || (!v.quoted && strings.ContainsAny(v.text, "()[]")) {
		return badFilter("expected a value")
	}
	switch name {
	case "username":
		return set(&p.f.UserName, v.text)
	case "emails", "emails.value":
		return set(&p.f.Email, v.text)
	case "externalid":
		return set(&p.f.ExternalID, v.text)
	}
	return badFilter("attribute " + attr.text)
}

// workType reads `type eq "work"` inside emails[…].
func (p *filterParser) workType() error {
	if err := p.word("type"); err != nil {
		return err
	}
	if err := p.word("eq"); err != nil {
		return err
	}
	if v, ok := p.next(); !ok || !v.quoted || !strings.EqualFold(v.text, "work") {
		return badFilter(`only emails[type eq "work"]`)
	}
	return nil
}

func set(dst **string, v string) error {
	if *dst != nil {
		return badFilter("the same attribute twice")
	}
	*dst = &v
	return nil
}

// stripURN removes the core User schema's URN from an attribute path.
func stripURN(path string) string {
	const urn = "urn:ietf:params:scim:schemas:core:2.0:user:"
	if len(path) > len(urn) && strings.EqualFold(path[:len(urn)], urn) {
		return path[len(urn):]
	}
	return path
}
