package sitepublish

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/futuraplataforma/esteira/internal/release"
	"github.com/futuraplataforma/esteira/internal/setting"
)

// A backup whose manifest is damaged (DamagedBackupError) stops every
// release and prune of its site. SetAside moves that manifest, under the
// site's lock, to <root>/.esteira/set-aside/<id>/manifest.json: a key no
// release, prune or rollback reads as a backup, so they continue, and the
// manifest is kept for inspection. A prune still counts every content a
// set-aside manifest names (what can be read of it) as referred to, until
// the operator deletes it: setting a backup aside never deletes a byte.

// setAsideDir is where set-aside manifests live, under the backup root.
const setAsideDir = reservedDir + "set-aside/"

// SetAsideOptions configure SetAside.
type SetAsideOptions struct {
	// Bucket and Prefix are the site whose backup to set aside.
	Bucket, Prefix string
	// BackupBucket is where the site's backups are. Empty: the site is
	// atomic and Backup names one of its release folders.
	BackupBucket string
	// Backup is the backup's id (the release id that took it).
	Backup string
	// DryRun says what would move and moves nothing.
	DryRun bool
	// Releases stores the deploy lock, taken so no release of the site runs
	// meanwhile; nil means no lock.
	Releases  *release.Store
	Who       string
	BreakLock bool
	// Out receives progress lines; nil discards them.
	Out io.Writer
}

// SetAsideResult says what was (or, in a dry run, would be) moved.
type SetAsideResult struct {
	Backup string `json:"backup"`
	// From is the damaged manifest, To where it is kept (s3://bucket/key).
	From string `json:"from"`
	To   string `json:"to"`
	// Damage is why the manifest cannot be read.
	Damage string `json:"damage"`
	DryRun bool   `json:"dryRun"`
}

// SetAside moves a damaged backup manifest aside: copy, verify the copy
// byte for byte, then delete the original. It refuses a manifest that
// reads fine (that backup is not damaged: prune drops backups) and one
// already set aside.
func SetAside(ctx context.Context, c Clients, o SetAsideOptions) (*SetAsideResult, error) {
	if c.S3 == nil {
		return nil, errors.New("no S3 client: pass Clients.S3")
	}
	return setAside(ctx, newS3Store(c.S3, 0), o)
}

func setAside(ctx context.Context, st objectStore, o SetAsideOptions) (*SetAsideResult, error) {
	site, root, err := setAsidePlaces(o)
	if err != nil {
		return nil, err
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	from := newLocation(root.Bucket, root.Prefix+o.Backup)
	to := root.Prefix + setAsideDir + o.Backup + "/manifest.json"
	res := &SetAsideResult{Backup: o.Backup, From: "s3://" + from.Bucket + "/" + from.manifestKey(), To: "s3://" + root.Bucket + "/" + to, DryRun: o.DryRun}
	r := newRun("frontend", site, nil, o.Out)
	if !o.DryRun {
		what := fmt.Sprintf("set aside the damaged manifest of backup %s of %s", o.Backup, target(site))
		unlock, _, err := lock(ctx, r, o.Releases, site, release.Holder{Who: whoOrDefault(o.Who), What: what}, 0, o.BreakLock)
		if err != nil {
			return nil, fmt.Errorf("nothing was set aside: %w", err)
		}
		defer unlock()
	}
	started := time.Now()
	data, err := damagedManifestOf(ctx, st, from, o.Backup, root.Bucket, to, res)
	r.step("check", started, err, res.Damage)
	if err != nil || o.DryRun {
		if err == nil {
			fmt.Fprintf(o.Out, "would move %s to %s\nDRY RUN OK: nothing was changed\n", res.From, res.To)
		}
		return res, err
	}
	started = time.Now()
	err = moveVerified(ctx, st, from.Bucket, from.manifestKey(), to, data)
	r.step("set-aside", started, err, res.From+" → "+res.To)
	return res, err
}

// setAsidePlaces checks the options and returns the site and the root its
// backups (or, atomic, its release folders) are under.
func setAsidePlaces(o SetAsideOptions) (site, root location, err error) {
	switch {
	case o.Bucket == "":
		return site, root, setting.Of("Bucket", errors.New("the site has no bucket: name the S3 bucket that serves the site"))
	case o.Backup == "" || strings.ContainsAny(o.Backup, "/\\") || o.Backup == "." || o.Backup == ".." || o.Backup+"/" == reservedDir:
		return site, root, setting.Of("Backup", fmt.Errorf("backup %q is not a backup id: name one backup, the release id that took it (as the error about it says)", o.Backup))
	}
	if err := validatePrefix("Prefix", "the site's prefix", o.Prefix); err != nil {
		return site, root, err
	}
	site = newLocation(o.Bucket, o.Prefix)
	if o.BackupBucket == "" {
		return site, site, nil
	}
	root = newLocation(o.BackupBucket, defaultBackupPrefix(o.Bucket, o.Prefix, o.BackupBucket, ""))
	return site, root, checkApart(site, root)
}

// damagedManifestOf reads the manifest of backup id at from and returns
// its bytes if it is damaged and not set aside yet (at bucket/to).
func damagedManifestOf(ctx context.Context, st objectStore, from location, id, bucket, to string, res *SetAsideResult) ([]byte, error) {
	if _, err := st.Head(ctx, bucket, to); err == nil {
		return nil, fmt.Errorf("nothing was set aside: backup %s already has a manifest set aside at %s; inspect it, delete it, and set aside again", id, res.To)
	} else if !errors.Is(err, errNotFound) {
		return nil, fmt.Errorf("nothing was set aside: %w", err)
	}
	rc, err := st.Read(ctx, from.Bucket, from.manifestKey())
	if errors.Is(err, errNotFound) {
		return nil, fmt.Errorf("nothing was set aside: backup %s has no manifest at %s (a wrong id, set aside already, or the backups are in another bucket than the one named)", id, res.From)
	}
	if err != nil {
		return nil, fmt.Errorf("nothing was set aside: read %s: %w", res.From, err)
	}
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return nil, fmt.Errorf("nothing was set aside: read %s: %w", res.From, err)
	}
	_, derr := decodeManifest(data)
	switch {
	case derr == nil:
		return nil, fmt.Errorf("nothing was set aside: the manifest of backup %s reads fine, so the backup is not damaged (a prune drops old backups)", id)
	case errors.Is(derr, errNewerManifest):
		return nil, fmt.Errorf("nothing was set aside: backup %s was written by a newer esteira (%v), it is not damaged", id, derr)
	}
	res.Damage = derr.Error()
	return data, nil
}

// moveVerified copies key to to in bucket, reads the copy back, and deletes
// key only once the copy equals data.
func moveVerified(ctx context.Context, st objectStore, bucket, key, to string, data []byte) error {
	if _, err := st.Copy(ctx, bucket, key, bucket, to, nil); err != nil {
		return fmt.Errorf("nothing was set aside: copy to s3://%s/%s: %w", bucket, to, err)
	}
	rc, err := st.Read(ctx, bucket, to)
	if err != nil {
		return fmt.Errorf("nothing was set aside: read back s3://%s/%s: %w", bucket, to, err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err == nil && !bytes.Equal(got, data) {
		err = errors.New("the copy differs from the manifest")
	}
	if err != nil {
		return fmt.Errorf("nothing was set aside (the manifest is still at s3://%s/%s): verify s3://%s/%s: %w", bucket, key, bucket, to, err)
	}
	if err := st.Delete(ctx, bucket, []string{key}); err != nil {
		return fmt.Errorf("the manifest is copied to s3://%s/%s but still at s3://%s/%s (delete failed: %w): set aside again", bucket, to, bucket, key, err)
	}
	return nil
}

// sha256Hex finds what reads as a SHA-256 in a set-aside manifest, damaged
// or not, in any version's layout.
var sha256Hex = regexp.MustCompile(`[0-9a-f]{64}`)

// setAsideReferences returns every content a set-aside manifest under root
// names, as far as it can be read: a prune keeps them.
func setAsideReferences(ctx context.Context, st objectStore, root location) (map[string]bool, error) {
	dir := root.Prefix + setAsideDir
	objs, err := st.List(ctx, root.Bucket, dir)
	if err != nil {
		return nil, fmt.Errorf("list the set-aside manifests in s3://%s/%s: %w", root.Bucket, dir, err)
	}
	refs := map[string]bool{}
	for _, o := range objs {
		rc, err := st.Read(ctx, root.Bucket, o.Key)
		if err != nil {
			return nil, fmt.Errorf("read s3://%s/%s: %w", root.Bucket, o.Key, err)
		}
		data, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return nil, fmt.Errorf("read s3://%s/%s: %w", root.Bucket, o.Key, err)
		}
		for _, sha := range sha256Hex.FindAll(data, -1) {
			refs[string(sha)] = true
		}
	}
	return refs, nil
}
