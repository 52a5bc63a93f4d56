// Package ai is the AI step of the marketplace exports: it rewrites a
// product's title, description and bullet points for one marketplace, within
// that marketplace's limits, with a model of Amazon Bedrock (the Converse
// API, through aws-sdk-go-v2's bedrockruntime).
//
// # One product, one conversation
//
// Optimize sends one Converse call. The system prompt states the
// marketplace, its limits (in words, and as JSON between LimitsOpen and
// LimitsClose), that only the product's own facts may be used, that the
// description is plain text, and that the answer is one JSON object:
//
//	{"title":"…","description":"…","bullet_points":["…"]}
//
// The user message carries the product as JSON between ProductOpen and
// ProductClose. The answer's first text block is decoded strictly (a
// Markdown ```json fence around it is tolerated) and checked: a non-empty
// title within its limit, a description within its limit, no more bullet
// points than allowed, each within its limit, characters counted as
// runes. An answer that fails is sent back once, in the same conversation,
// with what was wrong; a second failure is an *ItemError. The returned
// Usage sums the tokens of both calls, so the credits charged match what
// the model was paid for.
//
// # Errors
//
// Bedrock's exceptions are matched by type, never by message:
//
//   - *Throttled: ThrottlingException or ModelNotReadyException that
//     outlived the SDK's own retry (NewClient allows it two attempts);
//   - *ConfigError: AccessDeniedException, ResourceNotFoundException,
//     ValidationException and ServiceQuotaExceededException: the model id,
//     region or permissions are wrong, which an operator must fix;
//   - *ItemError: this product's text could not be produced (an unusable
//     answer twice, stop reason max_tokens, content_filtered,
//     guardrail_intervened or model_context_window_exceeded);
//   - any other error is transient (InternalServerException,
//     ServiceUnavailableException, ModelTimeoutException,
//     ModelErrorException, timeouts): the job retries on its schedule.
//
// Package bedrockfake plays Bedrock and a model that follows this prompt;
// it reads the prompt with ParseLimitsBlock and ParseProductBlock.
package ai
