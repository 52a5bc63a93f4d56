// Package bedrockfake is an Amazon Bedrock Runtime server that answers
// Converse as Bedrock does, with a model behind it that follows package
// ai's prompt, for the tests (over httptest) and the local sandbox of
// `make dev`. The client under test is aws-sdk-go-v2's own bedrockruntime
// client with BaseEndpoint pointed here; request signatures are not
// checked.
//
//	POST /model/{modelId}/converse   Converse (modelId path-escaped: amazon.nova-lite-v1%3A0)
//	GET  /_faults, POST /_faults     the faults in force (JSON)
//	GET  /_counters                  calls, answers and tokens so far (JSON)
//	GET  /                           where to point a client
//
// # The model
//
// It reads the limits from the system prompt and the product from the
// first user message, between package ai's delimiters, and answers the
// JSON object asked for: the brand, the title and the first feature as the
// title; the description without its HTML, with the features listed as
// facts; the features as bullet points; each cut to its limit at a word
// boundary. The same request always gets the same answer. Tokens are
// estimated at four characters each; an answer longer than the request's
// maxTokens is cut there, with stop reason max_tokens. metrics.latencyMs
// is the latency the call was given.
//
// # Errors
//
// As Bedrock sends them: the status, X-Amzn-ErrorType
// "<Type>:http://internal.amazon.com/coral/com.amazon.bedrock/" and
// {"message":…}, which the SDK turns into the types of bedrockruntime/types:
// a malformed conversation is 400 ValidationException, a model id not in
// Options.Models 404 ResourceNotFoundException, one in Faults.DeniedModels
// 403 AccessDeniedException, and a call past Options.MaxConcurrent in
// flight 429 ThrottlingException "Too many requests, please wait before
// trying again.", as a per-model quota answers.
//
// # Faults
//
// SetFaults, or POST /_faults for a person, makes the next calls answer
// 500/503 or 429, makes the model stray from the prompt (prose instead of
// JSON, a title over the limit, an answer cut off at max_tokens, a Markdown
// fence), withdraws access to models, and sets the latency:
//
//	curl -X POST "$BASE/_faults" \
//	  -d '{"throttle_next":2,"overlong_next":1,"denied_models":[],"latency":"3s"}'
//
// A POST replaces all the faults; POST {} clears them. Only Converse is
// ever delayed, so a person can always change the faults.
package bedrockfake
