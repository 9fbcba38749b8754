// Package release keeps esteira's deploy lock and release records in S3.
//
// The lock is one small JSON object per deploy target, created with a
// conditional write (If-None-Match: *) so that of two deploys started at once
// exactly one wins; the loser is told who holds the lock and since when. A
// lock is never broken implicitly: an old lock is reported as stale and is
// only removed when the caller passes Break (the module's --break-lock), and
// then only if it is still the lock that was inspected (If-Match on its ETag).
//
// A release record is the JSON account of one deploy: what was live before,
// what was rolled out, every step with its duration and outcome, and the
// final outcome. Records live under <prefix>/<kind>/<target>/<id>.json, where
// ids sort by time, so List returns the newest first.
package release
