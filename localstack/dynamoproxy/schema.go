package dynamoproxy

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"
	"sync"
)

// attrMap is a DynamoDB item, key or attribute-value map in wire form.
type attrMap = map[string]json.RawMessage

// schemaCache remembers each table's key attribute names (hash first, then
// range), fetched with DescribeTable. Key schemas never change for a table's
// lifetime; entries are dropped when a table is created or deleted through
// the proxy.
type schemaCache struct {
	mu     sync.Mutex
	tables map[string][]string
}

func (c *schemaCache) init() { c.tables = map[string][]string{} }

func (c *schemaCache) forget(table string) {
	c.mu.Lock()
	delete(c.tables, table)
	c.mu.Unlock()
}

// keySchema returns the key attribute names of table, hash key first.
func (p *Proxy) keySchema(ctx context.Context, table string) ([]string, error) {
	p.schemas.mu.Lock()
	names, ok := p.schemas.tables[table]
	p.schemas.mu.Unlock()
	if ok {
		return names, nil
	}
	var out struct {
		Table struct {
			KeySchema []struct {
				AttributeName string
				KeyType       string
			}
		}
	}
	if err := p.call(ctx, "DescribeTable", map[string]string{"TableName": table}, &out); err != nil {
		return nil, err
	}
	names = nil
	for _, k := range out.Table.KeySchema {
		if k.KeyType == "HASH" {
			names = append([]string{k.AttributeName}, names...)
		} else {
			names = append(names, k.AttributeName)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("table %s: DescribeTable returned no key schema", table)
	}
	p.schemas.mu.Lock()
	p.schemas.tables[table] = names
	p.schemas.mu.Unlock()
	return names, nil
}

// keyOf extracts the key attributes of item (a full item or a key) and a
// canonical string identifying the item within its table. fromItem selects
// the error message AWS uses for a Put item versus a Key.
func keyOf(table string, schema []string, item attrMap, fromItem bool) (attrMap, string, error) {
	if !fromItem && len(item) != len(schema) {
		return nil, "", validationError("The provided key element does not match the schema")
	}
	key := make(attrMap, len(schema))
	var id strings.Builder
	id.WriteString(table)
	for _, name := range schema {
		raw, ok := item[name]
		if !ok {
			if fromItem {
				return nil, "", validationError("One or more parameter values were invalid: Missing the key " + name + " in the item")
			}
			return nil, "", validationError("The provided key element does not match the schema")
		}
		canon, err := canonicalScalar(raw)
		if err != nil {
			return nil, "", validationError("One or more parameter values were invalid: " + err.Error() + " for key " + name)
		}
		key[name] = raw
		id.WriteByte(0)
		id.WriteString(name)
		id.WriteByte('=')
		id.WriteString(canon)
	}
	return key, id.String(), nil
}

// canonicalScalar renders a key attribute value (S, N or B) so that equal
// values render equally (numbers are normalised: "1.0" equals "1").
func canonicalScalar(raw json.RawMessage) (string, error) {
	var v struct {
		S *string
		N *string
		B *string
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("invalid attribute value")
	}
	switch {
	case v.S != nil:
		return "S:" + *v.S, nil
	case v.N != nil:
		r, ok := new(big.Rat).SetString(*v.N)
		if !ok {
			return "", fmt.Errorf("invalid number %q", *v.N)
		}
		return "N:" + r.RatString(), nil
	case v.B != nil:
		return "B:" + *v.B, nil
	}
	return "", fmt.Errorf("key attribute must be of type S, N or B")
}
