// Package sitepublish publishes a built static site to an S3 prefix without
// ever losing it or leaving it empty.
//
// Deploy: hash every build file (SHA-256; never mtimes or ETags), list the
// site and resolve each object's hash (from the manifest
// <prefix>/.esteira/manifest.json where the listed size and ETag still
// match, else x-amz-meta-esteira-sha256 by HEAD, else by reading it), plan,
// refuse more than MaxDelete deletions, back up server-side every object of
// the live site (or, with BackupChanged, only those the release will
// overwrite or delete) and verify the copies (keys, sizes, MD5 ETags or
// SHA-256) before anything changes, upload the changed files
// (assets, then HTML, then the root index.html), delete stale objects, list
// the site and verify it equals the build. Any failure after the backup
// restores the site from it and verifies it byte for byte, and the
// Content-Type, Cache-Control and Content-Encoding of everything it copied
// back against the headers the backup recorded. The backup's manifest
// records the whole previous site, so Rollback can restore it.
//
// The logic talks to S3 through the small objectStore interface (store.go);
// s3Store implements it over the SDK and unit tests use an in-memory store.
//
// IAM: on the site bucket s3:ListBucket, s3:GetObject, s3:PutObject,
// s3:DeleteObject (plus s3:AbortMultipartUpload for large files); on the
// backup bucket s3:ListBucket, s3:GetObject, s3:PutObject; with a
// distribution, cloudfront:CreateInvalidation.
package sitepublish
