package dynamoproxy

import (
	"context"
	"encoding/json"
	"errors"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"
)

// ttlHorizon: as on AWS, TTL values further in the past than this are not
// treated as expiry times (they are usually not epoch seconds at all).
const ttlHorizon = 5 * 365 * 24 * time.Hour

// ttlSettings holds the TTL attribute of each table that has TTL enabled.
type ttlSettings struct {
	mu    sync.Mutex
	attrs map[string]string
}

func (s *ttlSettings) init() { s.attrs = map[string]string{} }

func (s *ttlSettings) get(table string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	a, ok := s.attrs[table]
	return a, ok
}

func (s *ttlSettings) set(table, attr string) {
	s.mu.Lock()
	s.attrs[table] = attr
	s.mu.Unlock()
}

func (s *ttlSettings) forget(table string) {
	s.mu.Lock()
	delete(s.attrs, table)
	s.mu.Unlock()
}

func (s *ttlSettings) all() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.attrs)
}

type ttlSpec struct {
	AttributeName *string
	Enabled       *bool
}

func (p *Proxy) updateTimeToLive(ctx context.Context, body []byte) ([]byte, error) {
	var in struct {
		TableName               string
		TimeToLiveSpecification *ttlSpec
	}
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, newAPIError(http.StatusBadRequest, "com.amazon.coral.service#SerializationException", err.Error())
	}
	spec := in.TimeToLiveSpecification
	switch {
	case in.TableName == "":
		return nil, validationError("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	case spec == nil:
		return nil, validationError("1 validation error detected: Value null at 'timeToLiveSpecification' failed to satisfy constraint: Member must not be null")
	case spec.Enabled == nil:
		return nil, validationError("1 validation error detected: Value null at 'timeToLiveSpecification.enabled' failed to satisfy constraint: Member must not be null")
	case spec.AttributeName == nil || *spec.AttributeName == "":
		return nil, validationError("1 validation error detected: Value null at 'timeToLiveSpecification.attributeName' failed to satisfy constraint: Member must not be null")
	}
	if err := p.tableExists(ctx, in.TableName); err != nil {
		return nil, err
	}
	current, enabled := p.ttl.get(in.TableName)
	if *spec.Enabled {
		if enabled {
			return nil, validationError("TimeToLive is already enabled")
		}
		p.ttl.set(in.TableName, *spec.AttributeName)
	} else {
		if !enabled {
			return nil, validationError("TimeToLive is already disabled")
		}
		if current != *spec.AttributeName {
			return nil, validationError("TimeToLive is active on a different AttributeName: current AttributeName is " + current)
		}
		p.ttl.forget(in.TableName)
	}
	return json.Marshal(map[string]any{"TimeToLiveSpecification": spec})
}

func (p *Proxy) describeTimeToLive(ctx context.Context, body []byte) ([]byte, error) {
	var in struct{ TableName string }
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, newAPIError(http.StatusBadRequest, "com.amazon.coral.service#SerializationException", err.Error())
	}
	if in.TableName == "" {
		return nil, validationError("1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null")
	}
	if err := p.tableExists(ctx, in.TableName); err != nil {
		return nil, err
	}
	desc := map[string]string{"TimeToLiveStatus": "DISABLED"}
	if attr, ok := p.ttl.get(in.TableName); ok {
		desc = map[string]string{"TimeToLiveStatus": "ENABLED", "AttributeName": attr}
	}
	return json.Marshal(map[string]any{"TimeToLiveDescription": desc})
}

// tableExists asks dynalite; its ResourceNotFoundException is passed on.
func (p *Proxy) tableExists(ctx context.Context, table string) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.call(ctx, "DescribeTable", map[string]string{"TableName": table}, nil)
}

// Run deletes expired items every TTL interval until ctx is done.
func (p *Proxy) Run(ctx context.Context) {
	t := time.NewTicker(p.ttlInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := p.SweepExpired(ctx)
			if err != nil && ctx.Err() == nil {
				p.log.Warn("TTL sweep failed", "err", err)
			}
			if n > 0 {
				p.log.Info("TTL sweep deleted expired items", "count", n)
			}
		}
	}
}

// SweepExpired deletes, in every table with TTL enabled, the items whose TTL
// attribute is a number of epoch seconds in the past. It returns how many
// items it deleted. Each delete is conditional on the item still being
// expired, so items refreshed meanwhile survive.
func (p *Proxy) SweepExpired(ctx context.Context) (int, error) {
	settings := p.ttl.all()
	deleted := 0
	var errs []error
	for _, table := range slices.Sorted(maps.Keys(settings)) {
		n, err := p.sweepTable(ctx, table, settings[table])
		deleted += n
		var ae *apiError
		if errors.As(err, &ae) && ae.code() == "ResourceNotFoundException" {
			p.ttl.forget(table)
			p.schemas.forget(table)
			continue
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return deleted, errors.Join(errs...)
}

func (p *Proxy) sweepTable(ctx context.Context, table, attr string) (int, error) {
	schema, err := p.keySchema(ctx, table)
	if err != nil {
		return 0, err
	}
	now := p.now()
	names := map[string]string{"#ttl": attr}
	projection := ""
	for i, k := range schema {
		ph := "#k" + strconv.Itoa(i)
		names[ph] = k
		if i > 0 {
			projection += ", "
		}
		projection += ph
	}
	values := attrMap{
		":now":   numberValue(now.Unix()),
		":floor": numberValue(now.Add(-ttlHorizon).Unix()),
	}
	const expired = "#ttl < :now AND #ttl >= :floor"
	deleted := 0
	var startKey attrMap
	for {
		req := map[string]any{
			"TableName":                 table,
			"FilterExpression":          expired,
			"ProjectionExpression":      projection,
			"ExpressionAttributeNames":  names,
			"ExpressionAttributeValues": values,
		}
		if startKey != nil {
			req["ExclusiveStartKey"] = startKey
		}
		var page struct {
			Items            []attrMap
			LastEvaluatedKey attrMap
		}
		if err := p.readLocked(func() error { return p.call(ctx, "Scan", req, &page) }); err != nil {
			return deleted, err
		}
		for _, key := range page.Items {
			del := map[string]any{
				"TableName":                 table,
				"Key":                       key,
				"ConditionExpression":       expired,
				"ExpressionAttributeNames":  map[string]string{"#ttl": attr},
				"ExpressionAttributeValues": values,
			}
			err := p.readLocked(func() error { return p.call(ctx, "DeleteItem", del, nil) })
			var ae *apiError
			switch {
			case err == nil:
				deleted++
			case errors.As(err, &ae) && ae.code() == "ConditionalCheckFailedException":
				// Refreshed or already gone: nothing to do.
			default:
				return deleted, err
			}
		}
		if len(page.LastEvaluatedKey) == 0 {
			return deleted, nil
		}
		startKey = page.LastEvaluatedKey
	}
}

// readLocked runs f under the read lock, so a sweep never interleaves with a
// transaction.
func (p *Proxy) readLocked(f func() error) error {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return f()
}

func numberValue(n int64) json.RawMessage {
	return json.RawMessage(`{"N":"` + strconv.FormatInt(n, 10) + `"}`)
}
