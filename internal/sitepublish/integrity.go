package sitepublish

import (
	"context"
	"errors"
)

// A content's SHA-256 is only ever taken from something that saw its bytes:
//   - S3's own checksum, x-amz-checksum-sha256. A publish sends the build
//     file's SHA-256 with its PutObject and S3 refuses the upload unless the
//     bytes it received hash to it; every CopyObject asks S3 to hash the
//     bytes it copies (the response carries the result, at no extra
//     request); HEAD returns the checksum kept with the object. A rewrite of
//     the object replaces or drops it, so it cannot vouch for other bytes.
//   - reading the bytes back and hashing them, where S3 keeps no SHA-256 of
//     the whole object (objects written by other tools or earlier esteira,
//     uploads in parts).
//   - a manifest entry, only while the object's listed size and ETag (which
//     S3 derives from the bytes) are still those the entry recorded.
//
// The x-amz-meta-esteira-sha256 metadata a publish writes is never read
// back as a hash: anyone who rewrites the bytes can keep it.

// errIntegrity marks stored bytes that are not the ones a backup or a
// release recorded. Retrying cannot fix it: a restore stops at once.
var errIntegrity = errors.New("the stored bytes are not the recorded ones")

// storedSHA256 returns the SHA-256 of the bytes of the object o (a Head
// result) at bucket: S3's checksum when it keeps one, else the hash of the
// bytes read back.
func storedSHA256(ctx context.Context, st objectStore, bucket string, o object) (string, error) {
	if o.SHA256 != "" {
		return o.SHA256, nil
	}
	return readHash(ctx, st, bucket, o.Key)
}
