// Package translation is the job type that translates a store's UI labels:
// translation:ui-labels:bulk.
//
// A translation walks the store's labels in its default language in key
// order and picks those to translate into target_language: with
// only_missing (the default) the labels without a translation and those
// whose translation is stale (made from a source text that has changed
// since); without it, every label. They go in batches of 25. Each batch is
// paid for on the credits ledger first (CreditsPerBatch), then its labels
// are translated by Amazon Translate, one call each (package
// internal/translation says why), a few in flight across batches, and each
// translation is written to the catalog the moment it comes back; a
// checkpoint follows every batch.
//
// What makes it safe to run again:
//   - A batch is the next 25 labels to translate after the checkpoint, a
//     label this same job translated before a crash (with the same source
//     text) counting as one to translate, so a batch run again is the same
//     batch. Its debit's idempotency key is the job, the target language
//     and a hash of the batch's keys and source texts: a crash, a retry, a
//     duplicate message or a continuation never charges it twice.
//   - A label this job translated before is counted as translated, and not
//     sent to Translate again; one whose translation was in flight at a
//     crash is translated again (the batch was paid for once).
//
// A label whose placeholders or markup did not come back as they went, or
// that Translate refuses (too long, not valid), is not written: the result
// lists it with what changed, and the job goes on with the others.
//
// How it ends: completed when every label is translated or up to date;
// failed with the kind "validation" when some labels could not be
// translated, after every other was; failed at once with "Insufficient
// credits" when the store cannot pay for the next batch (after the paid
// ones are translated); failed at once when Translate does not translate
// the pair or the platform cannot call it. Translate's throttling is waited
// out with jittered backoff inside the job, a long wait becoming a retry of
// the job at that time; other faults follow the retry schedule and resume
// at the last batch done.
package translation
