// Package dynamoproxy is an HTTP reverse proxy for the DynamoDB JSON protocol
// that fills in what dynalite, the local DynamoDB emulator, does not
// implement:
//
//   - TransactWriteItems (Put, Update, Delete and ConditionCheck actions, all or
//     nothing, with cancellation reasons shaped like AWS's and
//     ClientRequestToken idempotency for ten minutes),
//   - TransactGetItems,
//   - UpdateTimeToLive and DescribeTimeToLive, with a background sweep that
//     deletes expired items.
//
// Every other operation is forwarded to dynalite unchanged: request body and
// headers go up as they came, the status, headers and body (including the
// X-Amz-Crc32 checksum that the AWS SDKs verify) come back as dynalite sent
// them.
//
// # Why
//
// The job queue writes a job and its indexes in one TransactWriteItems call
// and relies on TTL to expire finished jobs. Without this proxy those code
// paths could only run against real AWS. With it, dynalite plus the proxy
// give the application the same API surface offline.
//
// # Isolation
//
// A single sync.RWMutex orders everything: each forwarded request holds the
// read lock for its whole round trip, a transaction holds the write lock from
// its first check to its last write. No client can therefore observe a
// transaction half applied, and no ordinary write can slip in between a
// transaction's condition checks and its writes.
//
// # How a write transaction runs
//
//  1. Validate: at most 100 actions, exactly one operation per action, no two
//     actions on the same item (keys are read from the table's key schema,
//     fetched with DescribeTable and cached).
//  2. Snapshot every touched item with a consistent GetItem.
//  3. Evaluate every condition without changing anything: a PutItem of the
//     snapshot (item exists) or a DeleteItem of the key (item missing), each
//     carrying the action's condition. Both are no-ops on the data, and
//     dynalite evaluates the condition exactly as it would for the real
//     write.
//  4. If any condition failed, answer TransactionCanceledException with one
//     reason per action, in order.
//  5. Otherwise apply the actions one by one. If one fails (say, an invalid
//     update expression), restore every item already written from its
//     snapshot and return that error.
//
// The proxy is an emulator component: it keeps its state (TTL settings,
// idempotency tokens, key schemas) in memory and expects to be the only
// writer in front of its dynalite.
package dynamoproxy
