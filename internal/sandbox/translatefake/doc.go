// Package translatefake is an Amazon Translate server that answers
// TranslateText as Translate does (awsJson1_1), with a deterministic
// pseudo-translation behind it, for the tests (over httptest) and the local
// sandbox of `make dev`. The client under test is aws-sdk-go-v2's own
// translate client with BaseEndpoint pointed here; request signatures are
// not checked.
//
//	POST /   X-Amz-Target: AWSShineFrontendService_20170701.TranslateText
//	GET  /_faults, POST /_faults   the faults in force (JSON)
//	GET  /_counters                calls, answers and characters so far (JSON)
//	GET  /                         where to point a client
//
// # The translation
//
// Translate (the function) is what the server answers: every word of the
// text gets its vowels marked in a way fixed for the target language
// ("Add to cart" becomes "Ädd tö cärt" in German, "Àdd tò càrt" in French),
// the same way each time. What Translate itself keeps is kept as it is:
// HTML tags (attributes included), entities, what an element marked
// translate="no" holds (Translate's do-not-translate tags), and the
// placeholders labels use ({count}, {{name}}, %s, %1$d). A text whose
// source and target are the same comes back unchanged, as Translate
// returns it.
//
// # Errors
//
// As Translate sends them: HTTP 400 (500 for its server faults), the type
// in X-Amzn-ErrorType and in the body's __type, and {"Message": …}, which
// the SDK turns into the types of translate/types. A text over 10,000 bytes
// is TextSizeLimitExceededException, a language code Translate does not
// know UnsupportedLanguagePairException (with the two codes), a malformed
// request ValidationException, another operation
// UnknownOperationException.
//
// # Faults
//
// SetFaults, or POST /_faults for a person, makes the next calls answer
// TooManyRequestsException or server errors, makes the next answers break
// a placeholder (the engine translates it, or drops a tag when the text has
// no placeholder), refuses languages as a region without them does, and
// sets the latency:
//
//	curl -X POST "$BASE/_faults" \
//	  -d '{"throttle_next":5,"break_placeholders_next":1,"unsupported_languages":["mt"],"latency":"300ms"}'
//
// A POST replaces all the faults; POST {} clears them. Only TranslateText
// is ever delayed, so a person can always change the faults.
package translatefake
