// Package schedule keeps a store's recurring schedules and runs them: each
// time a schedule is due, it creates an ordinary job of its type, with its
// payload and priority, through the dispatcher.
//
// # Due times
//
// A schedule is either a 5-field cron expression or a simple "every day at
// 02:30" / "every week on Monday at 02:30", always in an IANA time zone.
// Its due times follow the zone's wall clock: each wall-clock occurrence
// runs exactly once. On the night the clocks skip an hour, an occurrence
// inside the gap runs once, shifted forward by the gap (02:30 in
// Europe/Berlin on the last Sunday of March runs at 03:30 CEST); on the
// night they repeat an hour, it runs once, at the first of the two. Cron
// libraries evaluated on instants get both nights wrong (they skip the
// spring run and run twice in autumn), so the parsed expression is
// evaluated on wall-clock times and each result is mapped back to an
// instant here (Compiled.Next).
//
// # Storage
//
// Schedules live in the jobs table, all in the partition "SCHEDULES" under
// the sort key "<store>#<id>": a store's schedules are one begins_with query
// and an operator's list is the partition. An enabled schedule is listed
// in the due index under its own partition "SCHEDULES" at its next run, so
// the job sweeps and the stuck-job scan, which read the DUE#<n> partitions,
// never see it. Every write is conditional on the version read: two sweeps,
// or a sweep and an edit, cannot both win.
//
// # Runs
//
// Runner.RunDue, called by the sweep every minute, handles the schedules
// that are due. A run's job is created with the idempotency key
// "schedule:<id>:<due unix seconds>", so a retried sweep or a crash
// between the create and the record never makes a second job for one due
// time. When the store's job of that type is still active, the due time is
// recorded as skipped; after an outage the schedule runs once, for the
// latest missed due time. The outcome of each run's job is counted when it
// has ended: a schedule whose jobs failed MaxFailures times in a row
// pauses itself until someone enables it again.
package schedule
