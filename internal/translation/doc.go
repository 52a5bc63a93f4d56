// Package translation is the translation step of the UI label job
// (translation:ui-labels:bulk): it translates one label with Amazon
// Translate's TranslateText (awsJson1_1, through aws-sdk-go-v2's translate
// client) and checks that the label's placeholders and markup came back
// as they went.
//
// # One label, one call
//
// Translate takes at most 10,000 bytes a call (MaxTextBytes) and bills
// characters, not calls, so packing several labels into one call would save
// nothing but round trips, and would make a label's fate depend on how the
// engine treats its neighbours (a separator merged, a paragraph moved). A
// label is sent alone: what Translate refuses or breaks is that label's,
// and nothing else's.
//
// # Placeholders and markup
//
// A label is plain text with placeholders ({count}, {{name}}, %s, %1$d)
// and inline HTML (<strong>, <a href="…">). Translate keeps HTML tags and
// leaves alone what an element marked translate="no" holds (its
// documented do-not-translate tags), so Protect wraps each placeholder in
// <span translate="no">…</span>; tags go as they are. The answer is
// unwrapped (Unprotect) and its placeholders and tags compared with the
// label's (Markup): the same ones, as many times each, in any order, as
// a translation may move them. An answer that lost or gained one is an
// *ItemError saying which.
//
// # Errors
//
// Translate's exceptions are matched by type (or, for those TranslateText
// does not model, by error code), never by message:
//
//   - *Throttled: TooManyRequestsException or LimitExceededException that
//     outlived the SDK's own retry (NewClient allows it two attempts);
//     Translate gives no hint of when to come back;
//   - *ItemError: this label cannot be translated as it is
//     (TextSizeLimitExceededException, InvalidRequestException, a label
//     over MaxTextBytes once protected, an answer whose placeholders or
//     tags changed);
//   - *UnsupportedPairError: Translate does not translate between the two
//     languages (UnsupportedLanguagePairException): no label of the job can
//     be translated;
//   - *ConfigError: the account cannot call Translate as configured
//     (AccessDeniedException, an unknown or expired credential, a
//     terminology that is not there): an operator must fix it;
//   - any other error is transient (InternalServerException,
//     ServiceUnavailableException, timeouts, dropped connections): the job
//     retries on its schedule.
//
// Package translatefake plays TranslateText for the tests and the sandbox.
package translation
