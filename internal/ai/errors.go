package ai

import "fmt"

// ItemError is a product whose text could not be produced: the model's
// answer was unusable twice, unfinished, or blocked. Retrying the job
// would not help this product; the export records it and goes on with the
// next.
type ItemError struct {
	Reason string
	Err    error // the cause, when there is one
}

func (e *ItemError) Error() string {
	return "the product's text could not be produced: " + e.Reason
}

func (e *ItemError) Unwrap() error { return e.Err }

// Throttled is a model that refused the call for now, after the SDK's own
// retry: Bedrock throttled it (the account's per-model quota) or the model
// is not ready. Bedrock gives no hint of when to come back, so the job
// waits as its schedule says.
type Throttled struct {
	ModelID string
	Err     error
}

func (e *Throttled) Error() string {
	return fmt.Sprintf("bedrock model %s is throttled: %v", e.ModelID, e.Err)
}

func (e *Throttled) Unwrap() error { return e.Err }

// ConfigError is a model the service cannot use as configured: the model
// id, the region or the role's permissions are wrong, or the account's
// quota refuses the request. No retry helps until an operator fixes it.
type ConfigError struct {
	ModelID string
	Region  string
	Err     error
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("bedrock model %s in region %s cannot be used; check the model id, the region, the model access granted to the account and the role's bedrock:InvokeModel permission: %v",
		e.ModelID, e.Region, e.Err)
}

func (e *ConfigError) Unwrap() error { return e.Err }
