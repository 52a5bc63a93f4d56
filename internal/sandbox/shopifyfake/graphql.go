package shopifyfake

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// This file reads GraphQL documents: enough of the language for the queries
// an Admin API client sends (operations, variables, arguments, aliases,
// nested selections, inline fragments), so the fake answers exactly the
// fields a query asks for and prices it from its real shape. Fragment
// definitions, directives and block strings are refused with an error that
// says so, rather than misread.

// selection is one entry of a selection set: a field, or an inline fragment
// (name empty) whose selections apply when the value is of typeCondition.
type selection struct {
	alias, name   string
	arguments     map[string]any // literal values; variables are variableRef until resolved
	selections    []*selection
	typeCondition string
	line, column  int
}

// key is the name the field's value has in the response.
func (s *selection) key() string {
	if s.alias != "" {
		return s.alias
	}
	return s.name
}

type operation struct {
	kind       string // "query", "mutation" or "subscription"
	name       string
	defaults   map[string]any // variables' default values
	selections []*selection
}

// variableRef is an argument that names a variable ($first).
type variableRef string

// enumValue is an unquoted argument value such as ID in sortKey: ID.
type enumValue string

// graphQLError is one entry of a response's "errors", as graphql-ruby (and so
// Shopify) words them.
type graphQLError struct {
	Message    string         `json:"message"`
	Locations  []location     `json:"locations,omitempty"`
	Path       []any          `json:"path,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

type location struct {
	Line   int `json:"line"`
	Column int `json:"column"`
}

func syntaxError(line, column int, format string, args ...any) *graphQLError {
	return &graphQLError{
		Message:   "syntax error, " + fmt.Sprintf(format, args...),
		Locations: []location{{line, column}},
	}
}

type tokenKind int

const (
	tokenEOF tokenKind = iota
	tokenName
	tokenPunctuator
	tokenString
	tokenInt
	tokenFloat
)

type token struct {
	kind         tokenKind
	text         string // a string token's decoded value
	line, column int
}

func (t token) String() string {
	switch t.kind {
	case tokenEOF:
		return "end of file"
	case tokenString:
		return strconv.Quote(t.text)
	}
	return fmt.Sprintf("%q", t.text)
}

func tokenize(src string) ([]token, *graphQLError) {
	var tokens []token
	line, lineStart := 1, 0
	for i := 0; i < len(src); {
		c := src[i]
		column := i - lineStart + 1
		switch {
		case c == '\n':
			i++
			line, lineStart = line+1, i
		case c == '\r':
			i++
			if i < len(src) && src[i] == '\n' {
				i++
			}
			line, lineStart = line+1, i
		case c == ' ' || c == '\t' || c == ',': // commas are insignificant in GraphQL
			i++
		case strings.HasPrefix(src[i:], "\ufeff"):
			i += len("\ufeff")
		case c == '#':
			for i < len(src) && src[i] != '\n' && src[i] != '\r' {
				i++
			}
		case strings.HasPrefix(src[i:], "..."):
			tokens = append(tokens, token{tokenPunctuator, "...", line, column})
			i += 3
		case strings.IndexByte("!$&()=:@[]{|}", c) >= 0:
			tokens = append(tokens, token{tokenPunctuator, string(c), line, column})
			i++
		case c == '_' || isLetter(c):
			j := i + 1
			for j < len(src) && (src[j] == '_' || isLetter(src[j]) || isDigit(src[j])) {
				j++
			}
			tokens = append(tokens, token{tokenName, src[i:j], line, column})
			i = j
		case c == '-' || isDigit(c):
			j, kind := scanNumber(src, i)
			if j < 0 {
				return nil, syntaxError(line, column, "malformed number")
			}
			tokens = append(tokens, token{kind, src[i:j], line, column})
			i = j
		case strings.HasPrefix(src[i:], `"""`):
			return nil, syntaxError(line, column, "block strings are not supported by the sandbox")
		case c == '"':
			j := i + 1
			for j < len(src) && src[j] != '"' && src[j] != '\n' && src[j] != '\r' {
				if src[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(src) || src[j] != '"' {
				return nil, syntaxError(line, column, "unterminated string")
			}
			// GraphQL's string escapes are JSON's.
			var value string
			if err := json.Unmarshal([]byte(src[i:j+1]), &value); err != nil {
				return nil, syntaxError(line, column, "bad string escape")
			}
			tokens = append(tokens, token{tokenString, value, line, column})
			i = j + 1
		default:
			return nil, syntaxError(line, column, "unexpected character %q", c)
		}
	}
	return append(tokens, token{kind: tokenEOF, line: line, column: len(src) - lineStart + 1}), nil
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// scanNumber returns the end of the number at src[i:] and its kind, or -1.
func scanNumber(src string, i int) (int, tokenKind) {
	j := i
	if src[j] == '-' {
		j++
	}
	start := j
	for j < len(src) && isDigit(src[j]) {
		j++
	}
	if j == start || (src[start] == '0' && j-start > 1) {
		return -1, 0
	}
	kind := tokenInt
	if j < len(src) && src[j] == '.' {
		j++
		fraction := j
		for j < len(src) && isDigit(src[j]) {
			j++
		}
		if j == fraction {
			return -1, 0
		}
		kind = tokenFloat
	}
	if j < len(src) && (src[j] == 'e' || src[j] == 'E') {
		j++
		if j < len(src) && (src[j] == '+' || src[j] == '-') {
			j++
		}
		exponent := j
		for j < len(src) && isDigit(src[j]) {
			j++
		}
		if j == exponent {
			return -1, 0
		}
		kind = tokenFloat
	}
	return j, kind
}

type parser struct {
	tokens []token
	pos    int
}

func (p *parser) peek() token { return p.tokens[p.pos] }

func (p *parser) next() token {
	t := p.tokens[p.pos]
	if t.kind != tokenEOF {
		p.pos++
	}
	return t
}

func (p *parser) at(punctuator string) bool {
	t := p.peek()
	return t.kind == tokenPunctuator && t.text == punctuator
}

func (p *parser) unexpected() *graphQLError {
	t := p.peek()
	return syntaxError(t.line, t.column, "unexpected %s", t)
}

func (p *parser) expect(punctuator string) *graphQLError {
	if !p.at(punctuator) {
		return p.unexpected()
	}
	p.next()
	return nil
}

func (p *parser) name() (token, *graphQLError) {
	if p.peek().kind != tokenName {
		return token{}, p.unexpected()
	}
	return p.next(), nil
}

// parseOperation reads a document and returns the operation to run: the
// only one, or the one operationName names.
func parseOperation(src, operationName string) (*operation, *graphQLError) {
	tokens, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{tokens: tokens}
	var operations []*operation
	for p.peek().kind != tokenEOF {
		op, err := p.operation()
		if err != nil {
			return nil, err
		}
		operations = append(operations, op)
	}
	switch {
	case len(operations) == 0:
		return nil, &graphQLError{Message: "No query string was present"}
	case operationName != "":
		for _, op := range operations {
			if op.name == operationName {
				return op, nil
			}
		}
		return nil, &graphQLError{Message: fmt.Sprintf("No operation named %q", operationName)}
	case len(operations) > 1:
		return nil, &graphQLError{Message: "An operation name is required"}
	}
	return operations[0], nil
}

func (p *parser) operation() (*operation, *graphQLError) {
	op := &operation{kind: "query", defaults: map[string]any{}}
	if p.at("{") {
		sels, err := p.selectionSet()
		op.selections = sels
		return op, err
	}
	t, err := p.name()
	if err != nil {
		return nil, err
	}
	switch t.text {
	case "query", "mutation", "subscription":
		op.kind = t.text
	case "fragment":
		return nil, syntaxError(t.line, t.column, "fragment definitions are not supported by the sandbox")
	default:
		return nil, syntaxError(t.line, t.column, "unexpected %s", t)
	}
	if p.peek().kind == tokenName {
		op.name = p.next().text
	}
	if p.at("(") {
		if err := p.variableDefinitions(op); err != nil {
			return nil, err
		}
	}
	if p.at("@") {
		return nil, p.directivesUnsupported()
	}
	op.selections, err = p.selectionSet()
	return op, err
}

func (p *parser) directivesUnsupported() *graphQLError {
	t := p.peek()
	return syntaxError(t.line, t.column, "directives are not supported by the sandbox")
}

func (p *parser) variableDefinitions(op *operation) *graphQLError {
	p.next() // (
	for !p.at(")") {
		if err := p.expect("$"); err != nil {
			return err
		}
		name, err := p.name()
		if err != nil {
			return err
		}
		if err := p.expect(":"); err != nil {
			return err
		}
		if err := p.typeReference(); err != nil {
			return err
		}
		if p.at("=") {
			p.next()
			value, err := p.value()
			if err != nil {
				return err
			}
			op.defaults[name.text] = value
		}
		if p.at("@") {
			return p.directivesUnsupported()
		}
	}
	p.next() // )
	return nil
}

// typeReference reads a variable's type (Int!, [ID!]); the fake checks
// values where they are used, so the type itself is not kept.
func (p *parser) typeReference() *graphQLError {
	if p.at("[") {
		p.next()
		if err := p.typeReference(); err != nil {
			return err
		}
		if err := p.expect("]"); err != nil {
			return err
		}
	} else if _, err := p.name(); err != nil {
		return err
	}
	if p.at("!") {
		p.next()
	}
	return nil
}

func (p *parser) selectionSet() ([]*selection, *graphQLError) {
	if err := p.expect("{"); err != nil {
		return nil, err
	}
	var sels []*selection
	for !p.at("}") {
		s, err := p.selection()
		if err != nil {
			return nil, err
		}
		sels = append(sels, s)
	}
	p.next() // }
	if len(sels) == 0 {
		t := p.tokens[p.pos-1]
		return nil, syntaxError(t.line, t.column, "unexpected \"}\": a selection set cannot be empty")
	}
	return sels, nil
}

func (p *parser) selection() (*selection, *graphQLError) {
	start := p.peek()
	if p.at("...") {
		p.next()
		s := &selection{line: start.line, column: start.column}
		if t := p.peek(); t.kind == tokenName {
			if t.text != "on" {
				return nil, syntaxError(t.line, t.column, "named fragments are not supported by the sandbox")
			}
			p.next()
			cond, err := p.name()
			if err != nil {
				return nil, err
			}
			s.typeCondition = cond.text
		}
		if p.at("@") {
			return nil, p.directivesUnsupported()
		}
		var err *graphQLError
		s.selections, err = p.selectionSet()
		return s, err
	}
	name, err := p.name()
	if err != nil {
		return nil, err
	}
	s := &selection{name: name.text, line: start.line, column: start.column}
	if p.at(":") {
		p.next()
		field, err := p.name()
		if err != nil {
			return nil, err
		}
		s.alias, s.name = s.name, field.text
	}
	if p.at("(") {
		p.next()
		s.arguments = map[string]any{}
		for !p.at(")") {
			arg, err := p.name()
			if err != nil {
				return nil, err
			}
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			value, err := p.value()
			if err != nil {
				return nil, err
			}
			s.arguments[arg.text] = value
		}
		p.next() // )
	}
	if p.at("@") {
		return nil, p.directivesUnsupported()
	}
	if p.at("{") {
		s.selections, err = p.selectionSet()
		if err != nil {
			return nil, err
		}
	}
	return s, nil
}

func (p *parser) value() (any, *graphQLError) {
	t := p.peek()
	switch t.kind {
	case tokenInt:
		p.next()
		n, err := strconv.ParseInt(t.text, 10, 64)
		if err != nil {
			return nil, syntaxError(t.line, t.column, "integer %s out of range", t.text)
		}
		return n, nil
	case tokenFloat:
		p.next()
		f, _ := strconv.ParseFloat(t.text, 64)
		return f, nil
	case tokenString:
		p.next()
		return t.text, nil
	case tokenName:
		p.next()
		switch t.text {
		case "true":
			return true, nil
		case "false":
			return false, nil
		case "null":
			return nil, nil
		}
		return enumValue(t.text), nil
	}
	switch {
	case p.at("$"):
		p.next()
		name, err := p.name()
		if err != nil {
			return nil, err
		}
		return variableRef(name.text), nil
	case p.at("["):
		p.next()
		list := []any{}
		for !p.at("]") {
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			list = append(list, v)
		}
		p.next()
		return list, nil
	case p.at("{"):
		p.next()
		fields := map[string]any{}
		for !p.at("}") {
			name, err := p.name()
			if err != nil {
				return nil, err
			}
			if err := p.expect(":"); err != nil {
				return nil, err
			}
			v, err := p.value()
			if err != nil {
				return nil, err
			}
			fields[name.text] = v
		}
		p.next()
		return fields, nil
	}
	return nil, p.unexpected()
}

// resolveValue replaces the variables in an argument value by the values
// the request sent (or the operation's defaults), and JSON numbers by Go
// numbers.
func resolveValue(v any, variables, defaults map[string]any) any {
	switch v := v.(type) {
	case variableRef:
		if value, ok := variables[string(v)]; ok {
			return resolveValue(value, nil, nil)
		}
		return resolveValue(defaults[string(v)], nil, nil)
	case json.Number:
		if n, err := v.Int64(); err == nil {
			return n
		}
		f, _ := v.Float64()
		return f
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = resolveValue(e, variables, defaults)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = resolveValue(e, variables, defaults)
		}
		return out
	}
	return v
}
