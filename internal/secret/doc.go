// Package secret finds and hides credentials in job payloads.
//
// Job payloads are JSON documents that may carry marketplace credentials:
// API keys, OAuth tokens, passwords. Anything that shows a payload to a
// person or writes it to a log passes it through [Rule.Redact] first, and
// anything that shows free text derived from a payload (an error message
// from a handler, say) passes that text through [Scrub] with the values
// found by [Rule.Values].
//
// # Which fields are secret
//
// A field is secret when its object key names a credential by the naming
// rule below, or when it is one of the extra keys a job type declares in
// [Rule.Extra] (compared with the whole key, ignoring case). A secret field
// is hidden whatever its value is: a string, a number, a boolean, null, or
// a whole object or array. Fields are examined at every depth, including
// objects inside arrays; inside a secret value nothing is examined further,
// since all of it is hidden.
//
// The naming rule ([IsSecretKey]) works on the words of the key:
//
//  1. The key is split into words. Every character that is not a letter or
//     a digit separates words (so "_", "-", ".", and spaces do). A new word
//     also starts where a lower-case letter or digit is followed by an
//     upper-case letter (refreshToken: refresh, token), before the last
//     capital of a run of capitals followed by a lower-case letter (APIKey:
//     api, key), and where letters and digits meet (token2: token, 2).
//     Words are compared in lower case.
//
//  2. The credential terms are:
//
//     password, passwd, secret, token, api_key, apikey, access_key,
//     private_key, client_secret, credentials, credential, authorization,
//     auth, cookie, session, signature
//
//     A term of several words, such as api_key, matches those words in
//     sequence (x-api-key, apiKey, API_KEY) and also matches them written
//     as one word (apikey, accesskey, privatekey).
//
//  3. Words are compared exactly, with two allowances: the first word of a
//     match may have anything in front of the term (or of its first word),
//     and the last may carry a plural "s". So token matches token, tokens,
//     accesstoken and refreshtoken; api_key matches api_keys and xapi_key;
//     auth matches auth, oauth and preauth, but not author, authority or
//     authenticated.
//
//  4. The key is secret when any term matches anywhere in it.
//
// So these keys are secret: password, access_token, refreshToken,
// AWS_SECRET_ACCESS_KEY, x-api-key, sp_api_refresh_token, client_secret,
// Authorization, Cookie, session_id, apiKeys, accesstoken. These are not:
// products, store_id, steps, author, authority, description, key,
// public_key, username.
//
// The rule errs on the side of hiding: token_count, max_tokens and
// signature_required are secret too. A false positive only hides a value
// that was harmless to show; a false negative would leak a credential. A
// job type whose credentials have names the rule does not recognise (pin,
// card_number) lists them in [Rule.Extra].
//
// # Redacting
//
// [Rule.Redact] replaces the value of every secret field with the string
// [Placeholder], "[redacted]". Nothing else changes: key order, white
// space, string escapes and the spelling of numbers are kept byte for byte,
// so a redacted payload reads like the original. Redacting is idempotent.
// A payload that is not valid JSON is rejected with an error wrapping
// [ErrInvalidJSON], since there is no telling which of its parts are
// secret.
//
// # Scrubbing free text
//
// Redacting a payload does not help when a credential has already been
// copied into other text, such as an error returned by a marketplace API.
// [Rule.Values] lists the strings (and number literals) inside secret
// fields, at least four characters long so that scrubbing does not mangle
// ordinary words, and [Scrub] replaces every occurrence of them in a text
// with [Placeholder].
package secret
