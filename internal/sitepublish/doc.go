// Package sitepublish publishes a built static site to an S3 prefix without
// ever losing it or leaving it empty: it backs the live site up server-side
// and verifies the backup, uploads only the files whose SHA-256 changed
// (assets first, HTML last, the root index.html at the very end), deletes
// stale objects only after every upload succeeded, verifies the result and,
// on any failure, restores the backup and verifies it byte for byte.
//
// The logic talks to S3 through the small objectStore interface (see
// store.go); s3Store implements it over the SDK and tests plug in an
// in-memory store. Deploy, Plan and Rollback are the entry points ci/ calls.
package sitepublish
