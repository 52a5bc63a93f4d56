package dynamoproxy

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
)

// maxTransactItems is AWS's limit on actions per transaction.
const maxTransactItems = 100

// writeAction is the body of one Put, Update, Delete or ConditionCheck
// action. Marshalled (without ReturnValuesOnConditionCheckFailure) it is also
// the body of the matching single-item operation.
type writeAction struct {
	TableName                           string            `json:",omitempty"`
	Key                                 attrMap           `json:",omitempty"`
	Item                                attrMap           `json:",omitempty"`
	UpdateExpression                    string            `json:",omitempty"`
	ConditionExpression                 string            `json:",omitempty"`
	ExpressionAttributeNames            map[string]string `json:",omitempty"`
	ExpressionAttributeValues           attrMap           `json:",omitempty"`
	ReturnValuesOnConditionCheckFailure string            `json:",omitempty"`
}

type transactWriteItem struct {
	ConditionCheck *writeAction
	Put            *writeAction
	Update         *writeAction
	Delete         *writeAction
}

type transactWriteInput struct {
	TransactItems          []transactWriteItem
	ClientRequestToken     string
	ReturnConsumedCapacity string
}

// plannedWrite is one validated action with the state it was planned on.
type plannedWrite struct {
	kind     string // ConditionCheck, Put, Update or Delete
	action   writeAction
	key      attrMap
	snapshot attrMap // the item before the transaction; nil if it did not exist
}

type cancellationReason struct {
	Code    string
	Message string  `json:",omitempty"`
	Item    attrMap `json:",omitempty"`
}

func (p *Proxy) transactWriteItems(ctx context.Context, body []byte) ([]byte, error) {
	var in transactWriteInput
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, newAPIError(http.StatusBadRequest, "com.amazon.coral.service#SerializationException", err.Error())
	}
	if err := checkItemCount(len(in.TransactItems)); err != nil {
		return nil, err
	}
	var fingerprint string
	if in.ClientRequestToken != "" {
		if len(in.ClientRequestToken) > 36 {
			return nil, validationError("1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length less than or equal to 36")
		}
		fp, err := requestFingerprint(body)
		if err != nil {
			return nil, newAPIError(http.StatusBadRequest, "com.amazon.coral.service#SerializationException", err.Error())
		}
		fingerprint = fp
	}

	p.mu.Lock()
	defer p.mu.Unlock()

	if in.ClientRequestToken != "" {
		if answer, found, err := p.tokens.lookup(in.ClientRequestToken, fingerprint, p.now()); found || err != nil {
			return answer, err
		}
	}

	plan, err := p.planWrites(ctx, in.TransactItems)
	if err != nil {
		return nil, err
	}
	if err := p.snapshot(ctx, plan); err != nil {
		return nil, err
	}

	reasons := make([]cancellationReason, len(plan))
	failed := false
	for i := range plan {
		ok, err := p.conditionHolds(ctx, &plan[i])
		if err != nil {
			return nil, err
		}
		reasons[i] = cancellationReason{Code: "None"}
		if !ok {
			failed = true
			reasons[i] = cancellationReason{Code: "ConditionalCheckFailed", Message: "The conditional request failed"}
			if plan[i].action.ReturnValuesOnConditionCheckFailure == "ALL_OLD" && plan[i].snapshot != nil {
				reasons[i].Item = plan[i].snapshot
			}
		}
	}
	if failed {
		return nil, transactionCanceled(reasons)
	}

	if err := p.applyWrites(ctx, plan); err != nil {
		return nil, err
	}

	out := map[string]any{}
	if cc := consumedCapacity(in.ReturnConsumedCapacity, plan, "WriteCapacityUnits"); cc != nil {
		out["ConsumedCapacity"] = cc
	}
	answer, err := json.Marshal(out)
	if err != nil {
		return nil, err
	}
	if in.ClientRequestToken != "" {
		p.tokens.store(in.ClientRequestToken, fingerprint, answer, p.now())
	}
	return answer, nil
}

func checkItemCount(n int) error {
	switch {
	case n == 0:
		return validationError("1 validation error detected: Value '[]' at 'transactItems' failed to satisfy constraint: Member must have length greater than or equal to 1")
	case n > maxTransactItems:
		return validationError(fmt.Sprintf("1 validation error detected: Value at 'transactItems' failed to satisfy constraint: Member must have length less than or equal to %d", maxTransactItems))
	}
	return nil
}

// planWrites validates the actions and resolves each one's item key.
func (p *Proxy) planWrites(ctx context.Context, items []transactWriteItem) ([]plannedWrite, error) {
	plan := make([]plannedWrite, 0, len(items))
	seen := make(map[string]bool, len(items))
	for _, it := range items {
		var pw plannedWrite
		n := 0
		for kind, a := range map[string]*writeAction{"ConditionCheck": it.ConditionCheck, "Put": it.Put, "Update": it.Update, "Delete": it.Delete} {
			if a != nil {
				n++
				pw.kind, pw.action = kind, *a
			}
		}
		if n != 1 {
			return nil, validationError("TransactItems can only contain one of Check, Put, Update or Delete")
		}
		a := &pw.action
		if a.TableName == "" {
			return nil, validationError("1 validation error detected: Value null at 'transactItems." + pw.kind + ".tableName' failed to satisfy constraint: Member must not be null")
		}
		switch pw.kind {
		case "Put":
			if a.Item == nil {
				return nil, validationError("1 validation error detected: Value null at 'transactItems.put.item' failed to satisfy constraint: Member must not be null")
			}
		case "Update":
			if a.UpdateExpression == "" {
				return nil, validationError("1 validation error detected: Value null at 'transactItems.update.updateExpression' failed to satisfy constraint: Member must not be null")
			}
		case "ConditionCheck":
			if a.ConditionExpression == "" {
				return nil, validationError("1 validation error detected: Value null at 'transactItems.conditionCheck.conditionExpression' failed to satisfy constraint: Member must not be null")
			}
		}
		if pw.kind != "Put" && a.Key == nil {
			return nil, validationError("1 validation error detected: Value null at 'transactItems." + strings.ToLower(pw.kind[:1]) + pw.kind[1:] + ".key' failed to satisfy constraint: Member must not be null")
		}
		schema, err := p.keySchema(ctx, a.TableName)
		if err != nil {
			return nil, err
		}
		src := a.Key
		if pw.kind == "Put" {
			src = a.Item
		}
		key, id, err := keyOf(a.TableName, schema, src, pw.kind == "Put")
		if err != nil {
			return nil, err
		}
		if seen[id] {
			return nil, validationError("Transaction request cannot include multiple operations on one item")
		}
		seen[id] = true
		pw.key = key
		plan = append(plan, pw)
	}
	return plan, nil
}

// snapshot reads every touched item as it is now.
func (p *Proxy) snapshot(ctx context.Context, plan []plannedWrite) error {
	for i := range plan {
		item, err := p.getItem(ctx, plan[i].action.TableName, plan[i].key, "", nil)
		if err != nil {
			return err
		}
		plan[i].snapshot = item
	}
	return nil
}

func (p *Proxy) getItem(ctx context.Context, table string, key attrMap, projection string, names map[string]string) (attrMap, error) {
	req := map[string]any{"TableName": table, "Key": key, "ConsistentRead": true}
	if projection != "" {
		req["ProjectionExpression"] = projection
	}
	if len(names) > 0 {
		req["ExpressionAttributeNames"] = names
	}
	var out struct{ Item attrMap }
	if err := p.call(ctx, "GetItem", req, &out); err != nil {
		return nil, err
	}
	return out.Item, nil
}

// conditionHolds evaluates the action's condition against the current item
// without changing it: dynalite runs a write that leaves the data as it is
// (the snapshot put back, or a delete of a missing item) under the
// condition.
func (p *Proxy) conditionHolds(ctx context.Context, pw *plannedWrite) (bool, error) {
	a := pw.action
	if a.ConditionExpression == "" {
		return true, nil
	}
	names, values := a.ExpressionAttributeNames, a.ExpressionAttributeValues
	if pw.kind == "Update" {
		// The update expression's placeholders would be "unused" here.
		names, values = referencedOnly(a.ConditionExpression, names, values)
	}
	check := writeAction{
		TableName:                 a.TableName,
		ConditionExpression:       a.ConditionExpression,
		ExpressionAttributeNames:  names,
		ExpressionAttributeValues: values,
	}
	op := "DeleteItem"
	if pw.snapshot != nil {
		op, check.Item = "PutItem", pw.snapshot
	} else {
		check.Key = pw.key
	}
	err := p.call(ctx, op, check, nil)
	var ae *apiError
	if errors.As(err, &ae) && ae.code() == "ConditionalCheckFailedException" {
		return false, nil
	}
	return err == nil, err
}

var (
	namePlaceholder  = regexp.MustCompile(`#[A-Za-z0-9_]+`)
	valuePlaceholder = regexp.MustCompile(`:[A-Za-z0-9_]+`)
)

// referencedOnly keeps the names and values that expr refers to.
func referencedOnly(expr string, names map[string]string, values attrMap) (map[string]string, attrMap) {
	var outNames map[string]string
	for _, ph := range namePlaceholder.FindAllString(expr, -1) {
		if v, ok := names[ph]; ok {
			if outNames == nil {
				outNames = map[string]string{}
			}
			outNames[ph] = v
		}
	}
	var outValues attrMap
	for _, ph := range valuePlaceholder.FindAllString(expr, -1) {
		if v, ok := values[ph]; ok {
			if outValues == nil {
				outValues = attrMap{}
			}
			outValues[ph] = v
		}
	}
	return outNames, outValues
}

// applyWrites performs the actions in order. If one fails, every item
// written so far is restored from its snapshot and the failure returned.
func (p *Proxy) applyWrites(ctx context.Context, plan []plannedWrite) error {
	for i := range plan {
		pw := &plan[i]
		if pw.kind == "ConditionCheck" {
			continue
		}
		req := pw.action
		req.ReturnValuesOnConditionCheckFailure = ""
		op := map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem"}[pw.kind]
		err := p.call(ctx, op, req, nil)
		if err == nil {
			continue
		}
		if rbErr := p.rollback(ctx, plan[:i]); rbErr != nil {
			p.log.Error("transaction rollback failed; items may be partly written", "err", rbErr, "cause", err)
			return fmt.Errorf("transaction action %d failed (%v) and rollback failed: %w", i, err, rbErr)
		}
		return err
	}
	return nil
}

// rollback restores the items of the given (applied) actions.
func (p *Proxy) rollback(ctx context.Context, applied []plannedWrite) error {
	var errs []error
	for i := len(applied) - 1; i >= 0; i-- {
		pw := &applied[i]
		if pw.kind == "ConditionCheck" {
			continue
		}
		var err error
		if pw.snapshot != nil {
			err = p.call(ctx, "PutItem", writeAction{TableName: pw.action.TableName, Item: pw.snapshot}, nil)
		} else {
			err = p.call(ctx, "DeleteItem", writeAction{TableName: pw.action.TableName, Key: pw.key}, nil)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("restore %s item %d: %w", pw.action.TableName, i, err))
		}
	}
	return errors.Join(errs...)
}

func transactionCanceled(reasons []cancellationReason) *apiError {
	codes := make([]string, len(reasons))
	for i, r := range reasons {
		codes[i] = r.Code
	}
	body, _ := json.Marshal(struct {
		Type                string               `json:"__type"`
		Message             string               `json:"message"`
		CancellationReasons []cancellationReason `json:"CancellationReasons"`
	}{
		Type:                "com.amazonaws.dynamodb.v20120810#TransactionCanceledException",
		Message:             "Transaction cancelled, please refer cancellation reasons for specific reasons [" + strings.Join(codes, ", ") + "]",
		CancellationReasons: reasons,
	})
	return &apiError{status: http.StatusBadRequest, body: body}
}

// consumedCapacity reports capacity like AWS does for transactions: two units
// per action, summed per table, in order of first use. unitsField is
// WriteCapacityUnits or ReadCapacityUnits.
func consumedCapacity(mode string, plan []plannedWrite, unitsField string) []map[string]any {
	if mode != "TOTAL" && mode != "INDEXES" {
		return nil
	}
	var tables []string
	units := map[string]float64{}
	for _, pw := range plan {
		t := pw.action.TableName
		if _, ok := units[t]; !ok {
			tables = append(tables, t)
		}
		units[t] += 2
	}
	out := make([]map[string]any, 0, len(tables))
	for _, t := range tables {
		c := map[string]any{"TableName": t, "CapacityUnits": units[t], unitsField: units[t]}
		if mode == "INDEXES" {
			c["Table"] = map[string]any{"CapacityUnits": units[t], unitsField: units[t]}
		}
		out = append(out, c)
	}
	return out
}

type transactGetInput struct {
	TransactItems []struct {
		Get *struct {
			TableName                string
			Key                      attrMap
			ProjectionExpression     string
			ExpressionAttributeNames map[string]string
		}
	}
	ReturnConsumedCapacity string
}

func (p *Proxy) transactGetItems(ctx context.Context, body []byte) ([]byte, error) {
	var in transactGetInput
	if err := json.Unmarshal(body, &in); err != nil {
		return nil, newAPIError(http.StatusBadRequest, "com.amazon.coral.service#SerializationException", err.Error())
	}
	if err := checkItemCount(len(in.TransactItems)); err != nil {
		return nil, err
	}
	plan := make([]plannedWrite, len(in.TransactItems))
	for i, it := range in.TransactItems {
		if it.Get == nil {
			return nil, validationError("1 validation error detected: Value null at 'transactItems.get' failed to satisfy constraint: Member must not be null")
		}
		if it.Get.TableName == "" || it.Get.Key == nil {
			return nil, validationError("1 validation error detected: Value null at 'transactItems.get.tableName' or 'transactItems.get.key' failed to satisfy constraint: Member must not be null")
		}
		plan[i] = plannedWrite{kind: "Get", action: writeAction{TableName: it.Get.TableName}}
	}

	// The write lock gives one consistent view over all items: no write of
	// any kind runs while they are read.
	p.mu.Lock()
	defer p.mu.Unlock()

	responses := make([]map[string]attrMap, len(in.TransactItems))
	for i, it := range in.TransactItems {
		g := it.Get
		item, err := p.getItem(ctx, g.TableName, g.Key, g.ProjectionExpression, g.ExpressionAttributeNames)
		if err != nil {
			return nil, err
		}
		responses[i] = map[string]attrMap{}
		if item != nil {
			responses[i]["Item"] = item
		}
	}
	out := map[string]any{"Responses": responses}
	if cc := consumedCapacity(in.ReturnConsumedCapacity, plan, "ReadCapacityUnits"); cc != nil {
		out["ConsumedCapacity"] = cc
	}
	return json.Marshal(out)
}
