package shopifyfake

import (
	"fmt"
	"strings"
)

// The part of the Admin API schema the fake serves. A query that names a
// field outside it gets the error Shopify gives for a field that does not
// exist, so a client cannot come to rely on something only the fake has.

type fieldKind int

const (
	scalarField     fieldKind = iota
	objectField               // an object, or a list of small objects (selectedOptions, rules)
	connectionField           // a Relay connection of typeName nodes
)

type fieldDef struct {
	kind      fieldKind
	typeName  string
	arguments []string
}

// connectionArguments are the arguments every connection takes; the fake
// serves first/after and refuses last/before.
var connectionArguments = []string{"first", "after", "last", "before", "reverse"}

func objectOf(typeName string, arguments ...string) fieldDef {
	return fieldDef{kind: objectField, typeName: typeName, arguments: arguments}
}

func connectionOf(typeName string, arguments ...string) fieldDef {
	return fieldDef{kind: connectionField, typeName: typeName, arguments: append(arguments, connectionArguments...)}
}

// fields makes a type's field table from its scalar fields (space
// separated) and its other fields.
func fields(scalars string, others map[string]fieldDef) map[string]fieldDef {
	out := map[string]fieldDef{}
	for _, name := range strings.Fields(scalars) {
		out[name] = fieldDef{kind: scalarField}
	}
	for name, def := range others {
		out[name] = def
	}
	return out
}

var mediaScalars = "id alt mediaContentType status"

var schema = map[string]map[string]fieldDef{
	"QueryRoot": fields("", map[string]fieldDef{
		"shop":             objectOf("Shop"),
		"product":          objectOf("Product", "id"),
		"collection":       objectOf("Collection", "id"),
		"products":         connectionOf("Product", "query", "sortKey"),
		"collections":      connectionOf("Collection", "query", "sortKey"),
		"productsCount":    objectOf("Count", "query", "limit"),
		"collectionsCount": objectOf("Count", "query", "limit"),
	}),
	"Shop":     fields("id name email myshopifyDomain currencyCode ianaTimezone", map[string]fieldDef{"plan": objectOf("ShopPlan")}),
	"ShopPlan": fields("displayName partnerDevelopment shopifyPlus", nil),
	"Product": fields("id handle title description descriptionHtml vendor productType tags status createdAt updatedAt totalInventory", map[string]fieldDef{
		"options":       objectOf("ProductOption", "first"),
		"variants":      connectionOf("ProductVariant"),
		"variantsCount": objectOf("Count"),
		"media":         connectionOf("Media"),
		"collections":   connectionOf("Collection", "query", "sortKey"),
	}),
	"ProductOption":      fields("id name position values", map[string]fieldDef{"optionValues": objectOf("ProductOptionValue")}),
	"ProductOptionValue": fields("id name", nil),
	"ProductVariant": fields("id sku title price compareAtPrice barcode inventoryQuantity position createdAt updatedAt", map[string]fieldDef{
		"selectedOptions": objectOf("SelectedOption"),
		"image":           objectOf("Image"),
	}),
	"SelectedOption": fields("name value", nil),
	"Media":          fields(mediaScalars, nil),
	"MediaImage":     fields(mediaScalars, map[string]fieldDef{"image": objectOf("Image")}),
	"Video":          fields(mediaScalars, nil),
	"ExternalVideo":  fields(mediaScalars, nil),
	"Model3d":        fields(mediaScalars, nil),
	"Image":          fields("id url altText width height", nil),
	"Collection": fields("id handle title description descriptionHtml updatedAt sortOrder", map[string]fieldDef{
		"image":         objectOf("Image"),
		"ruleSet":       objectOf("CollectionRuleSet"),
		"productsCount": objectOf("Count"),
		"products":      connectionOf("Product"),
	}),
	"CollectionRuleSet": fields("appliedDisjunctively", map[string]fieldDef{"rules": objectOf("CollectionRule")}),
	"CollectionRule":    fields("column relation condition", nil),
	"Count":             fields("count precision", nil),
	"PageInfo":          fields("hasNextPage hasPreviousPage startCursor endCursor", nil),
}

// interfaces lists the concrete types of each interface the schema has.
var interfaces = map[string][]string{
	"Media": {"MediaImage", "Video", "ExternalVideo", "Model3d"},
}

// fragmentApplies reports whether an inline fragment on condition applies
// to a value of typeName (a concrete type, or an interface when the query
// is being checked).
func fragmentApplies(typeName, condition string) bool {
	if condition == "" || condition == typeName {
		return true
	}
	for _, t := range interfaces[condition] {
		if t == typeName {
			return true
		}
	}
	for _, t := range interfaces[typeName] {
		if t == condition {
			return true
		}
	}
	return false
}

// maxPageSize is the most nodes one connection returns.
const maxPageSize = 250

// checker validates an operation against the schema, resolves its
// arguments (in place) and computes its requested cost.
//
// The cost follows Shopify's published rules, simplified: a scalar or enum
// costs 0; an object 1 plus its selections (a list of small objects, such as
// selectedOptions, counts once); a connection 2 plus first × (1 + what one
// node selects). So products(first: 10) { nodes { variants(first: 20) {
// nodes { image { url } } } } } costs 2 + 10 × (1 + 2 + 20 × (1 + 1)) = 432.
// pageInfo and the edges/nodes wrappers are free.
type checker struct {
	variables, defaults map[string]any
	errors              []graphQLError
}

func (c *checker) fail(s *selection, path []any, code, message string, extensions map[string]any) {
	ext := map[string]any{"code": code}
	for k, v := range extensions {
		ext[k] = v
	}
	c.errors = append(c.errors, graphQLError{
		Message:    message,
		Locations:  []location{{s.line, s.column}},
		Path:       append([]any(nil), path...),
		Extensions: ext,
	})
}

// selectionSet checks sels on a value of typeName and returns their cost.
func (c *checker) selectionSet(typeName string, sels []*selection, path []any) float64 {
	cost := 0.0
	for _, s := range sels {
		if s.name == "" {
			if _, known := schema[s.typeCondition]; s.typeCondition != "" && !known {
				c.fail(s, path, "undefinedType", fmt.Sprintf("No such type %s, so it can't be a fragment condition", s.typeCondition), nil)
				continue
			}
			if !fragmentApplies(typeName, s.typeCondition) {
				c.fail(s, path, "fragmentSpreadTypeMismatch", fmt.Sprintf("Fragment on %s can't be spread inside %s", s.typeCondition, typeName), nil)
				continue
			}
			inner := typeName
			if s.typeCondition != "" {
				inner = s.typeCondition
			}
			cost += c.selectionSet(inner, s.selections, path)
			continue
		}
		fieldPath := append(append([]any(nil), path...), s.key())
		if s.name == "__typename" {
			continue
		}
		def, ok := schema[typeName][s.name]
		if !ok {
			c.fail(s, fieldPath, "undefinedField", fmt.Sprintf("Field '%s' doesn't exist on type '%s'", s.name, typeName),
				map[string]any{"typeName": typeName, "fieldName": s.name})
			continue
		}
		if !c.arguments(s, def, fieldPath) {
			continue
		}
		switch def.kind {
		case scalarField:
			if s.selections != nil {
				c.fail(s, fieldPath, "selectionMismatch", fmt.Sprintf("Selections can't be made on scalars (field '%s' returns a scalar but has selections)", s.name), nil)
			}
		case objectField:
			if s.selections == nil {
				c.fail(s, fieldPath, "selectionMismatch", fmt.Sprintf("Field must have selections (field '%s' returns %s but has no selections. Did you mean '%s { ... }'?)", s.name, def.typeName, s.name), nil)
				continue
			}
			cost += 1 + c.selectionSet(def.typeName, s.selections, fieldPath)
		case connectionField:
			if s.selections == nil {
				c.fail(s, fieldPath, "selectionMismatch", fmt.Sprintf("Field must have selections (field '%s' returns %sConnection but has no selections. Did you mean '%s { ... }'?)", s.name, def.typeName, s.name), nil)
				continue
			}
			first, ok := c.pageSize(s, fieldPath)
			if !ok {
				continue
			}
			cost += 2 + float64(first)*(1+c.connectionNode(def.typeName, s.selections, fieldPath))
		}
	}
	return cost
}

// connectionNode checks a connection's selections (edges, nodes, pageInfo)
// and returns the cost of one node.
func (c *checker) connectionNode(nodeType string, sels []*selection, path []any) float64 {
	node := 0.0
	for _, s := range sels {
		fieldPath := append(append([]any(nil), path...), s.key())
		switch s.name {
		case "__typename":
		case "nodes":
			node = max(node, c.selectionSet(nodeType, c.mustSelect(s, fieldPath), fieldPath))
		case "pageInfo":
			c.selectionSet("PageInfo", c.mustSelect(s, fieldPath), fieldPath)
		case "edges":
			for _, e := range c.mustSelect(s, fieldPath) {
				edgePath := append(append([]any(nil), fieldPath...), e.key())
				switch e.name {
				case "cursor", "__typename":
				case "node":
					node = max(node, c.selectionSet(nodeType, c.mustSelect(e, edgePath), edgePath))
				default:
					c.fail(e, edgePath, "undefinedField", fmt.Sprintf("Field '%s' doesn't exist on type '%sEdge'", e.name, nodeType), nil)
				}
			}
		default:
			c.fail(s, fieldPath, "undefinedField", fmt.Sprintf("Field '%s' doesn't exist on type '%sConnection'", s.name, nodeType), nil)
		}
	}
	return node
}

func (c *checker) mustSelect(s *selection, path []any) []*selection {
	if s.selections == nil {
		c.fail(s, path, "selectionMismatch", fmt.Sprintf("Field must have selections (field '%s' has no selections)", s.name), nil)
	}
	return s.selections
}

// arguments resolves a field's arguments and refuses the ones it does not
// take.
func (c *checker) arguments(s *selection, def fieldDef, path []any) bool {
	ok := true
	for name, value := range s.arguments {
		accepted := false
		for _, a := range def.arguments {
			accepted = accepted || a == name
		}
		if !accepted {
			c.fail(s, path, "argumentNotAccepted", fmt.Sprintf("Field '%s' doesn't accept argument '%s'", s.name, name), nil)
			ok = false
			continue
		}
		s.arguments[name] = resolveValue(value, c.variables, c.defaults)
	}
	return ok
}

// pageSize returns a connection's first, refusing what the fake does not
// serve and what Shopify refuses.
func (c *checker) pageSize(s *selection, path []any) (int, bool) {
	if s.arguments["last"] != nil || s.arguments["before"] != nil {
		c.fail(s, path, "BAD_USER_INPUT", "The sandbox pages forward only: use first and after", nil)
		return 0, false
	}
	if reverse, _ := s.arguments["reverse"].(bool); reverse {
		c.fail(s, path, "BAD_USER_INPUT", "The sandbox does not serve reverse: true", nil)
		return 0, false
	}
	raw, present := s.arguments["first"]
	if !present || raw == nil {
		c.fail(s, path, "BAD_USER_INPUT", "you must provide one of first or last", nil)
		return 0, false
	}
	first, isInt := raw.(int64)
	if !isInt {
		c.fail(s, path, "argumentLiteralsIncompatible", fmt.Sprintf("Argument 'first' on Field '%s' has an invalid value (%v). Expected type 'Int'.", s.name, raw), nil)
		return 0, false
	}
	if first < 0 || first > maxPageSize {
		c.fail(s, path, "BAD_USER_INPUT", fmt.Sprintf("The first argument of '%s' must be between 0 and %d (it is %d)", s.name, maxPageSize, first), nil)
		return 0, false
	}
	if after, present := s.arguments["after"]; present && after != nil {
		if _, isString := after.(string); !isString {
			c.fail(s, path, "argumentLiteralsIncompatible", fmt.Sprintf("Argument 'after' on Field '%s' has an invalid value (%v). Expected type 'String'.", s.name, after), nil)
			return 0, false
		}
	}
	if sortKey, present := s.arguments["sortKey"]; present && sortKey != nil && sortKey != enumValue("ID") && sortKey != "ID" {
		c.fail(s, path, "BAD_USER_INPUT", fmt.Sprintf("The sandbox sorts %s by ID only (sortKey: %v)", s.name, sortKey), nil)
		return 0, false
	}
	return int(first), true
}
