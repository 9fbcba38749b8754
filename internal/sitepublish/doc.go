// Package sitepublish publishes a built static site to an S3 prefix without
// ever losing it or leaving it empty.
//
// Deploy: hash every build file (SHA-256; never mtimes or ETags), list the
// site and resolve each object's hash (from the manifest
// <prefix>/.esteira/manifest.json where the listed size and ETag still
// match, else S3's x-amz-checksum-sha256 by HEAD, else by reading it), plan,
// refuse more than MaxDelete deletions, back up the live site by reference
// (content.go: the contents the backup store lacks are copied and checked,
// the backup is a manifest of the whole site), upload the changed files
// (assets, then HTML, then the root index.html), delete stale objects, and
// verify what was written and deleted. Any failure after the backup
// restores the site from it and verifies what the restore changed, bytes
// and headers. Every backup restores the whole site on its own, so Rollback
// can restore any of them; Prune deletes old ones and the contents no
// remaining backup needs, deleting only what it proves its own
// (releasefolders.go) and measuring ages on the S3 server's clock
// (serverclock.go); SetAside moves a damaged backup manifest out of the
// way (setaside.go).
//
// The logic talks to S3 through the small objectStore interface (store.go);
// s3Store implements it over the SDK and unit tests use an in-memory store.
//
// IAM: on the site bucket s3:ListBucket, s3:GetObject, s3:PutObject,
// s3:DeleteObject (plus s3:AbortMultipartUpload for large files); on the
// backup bucket s3:ListBucket, s3:GetObject, s3:PutObject (and
// s3:DeleteObject to prune or set a damaged backup aside); with a distribution,
// cloudfront:CreateInvalidation; atomic, cloudfront-keyvaluestore:DescribeKeyValueStore,
// GetKey and PutKey on the store.
package sitepublish
