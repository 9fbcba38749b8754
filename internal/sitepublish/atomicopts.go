package sitepublish

import (
	"errors"
	"fmt"

	"github.com/futuraplataforma/esteira/internal/setting"
)

// AtomicOptions are the settings only an atomic site has. Each release
// goes to an immutable folder of its own, <Prefix>/<release id>/, and is
// made live by one switch of a pointer: the key PointerKey of the
// CloudFront KeyValueStore KeyValueStore, read by the CloudFront Function
// in examples/cloudfront. Unchanged files are copied server-side from the
// live release, never uploaded; no backup is taken (the live release's
// folder is never changed) and no invalidation is needed (each release has
// its own paths), so an atomic site has no backup bucket and no
// distribution to invalidate.
type AtomicOptions struct {
	// KeyValueStore is the ARN of the KeyValueStore holding the live
	// pointer (needs Clients.KeyValueStore). Required.
	KeyValueStore string
	// PointerKey is the pointer's key in it; default bucket/prefix.
	PointerKey string
}

// AtomicSettings are the atomic settings of a site given flat, as a
// command line or a file gives them: nil for a site released in place.
// A key value store or a pointer key given for a site that is not atomic
// is refused, naming the setting: it would be ignored, and the site
// released over its live files when its owner meant a pointer switch.
func AtomicSettings(atomic bool, keyValueStore, pointerKey string) (*AtomicOptions, error) {
	if atomic {
		return &AtomicOptions{KeyValueStore: keyValueStore, PointerKey: pointerKey}, nil
	}
	var errs []error
	for _, s := range []struct{ field, what, value string }{
		{"Atomic.KeyValueStore", "a key value store", keyValueStore},
		{"Atomic.PointerKey", "a pointer key", pointerKey},
	} {
		if s.value != "" {
			errs = append(errs, setting.Of(s.field, fmt.Errorf("%s (%s) was given for a site released in place: only an atomic site has a live pointer; "+
				"make the site atomic, or leave %s out", s.what, s.value, s.what)))
		}
	}
	if len(errs) > 0 {
		return nil, setting.Of("Atomic", errors.Join(errs...))
	}
	return nil, nil
}

// Check checks the settings of an atomic release without calling AWS, so
// a mistake is refused before the build. distributionID is the site's
// distribution to invalidate, which an atomic site must not have.
func (a *AtomicOptions) Check(distributionID string) error {
	switch {
	case a.KeyValueStore == "":
		return setting.Of("Atomic.KeyValueStore", errors.New("an atomic site needs the CloudFront KeyValueStore that holds its live pointer: name its ARN, arn:aws:cloudfront::<account>:key-value-store/<id>"))
	case !kvsARN.MatchString(a.KeyValueStore):
		return setting.Of("Atomic.KeyValueStore", fmt.Errorf("key value store %q is not a CloudFront KeyValueStore ARN (arn:aws:cloudfront::<account>:key-value-store/<id>): name it by its ARN, not its name", a.KeyValueStore))
	case len(a.PointerKey) > 512:
		return setting.Of("Atomic.PointerKey", fmt.Errorf("pointer key %q is longer than KeyValueStore's 512 bytes", a.PointerKey))
	case distributionID != "":
		return setting.Of("DistributionID", errors.New("an atomic site needs no invalidation (each release has its own paths): leave the distribution out"))
	}
	return nil
}

// withDefaults checks a and defaults the pointer key to the site,
// bucket/prefix.
func (a AtomicOptions) withDefaults(site location, distributionID string) (AtomicOptions, error) {
	if a.PointerKey == "" {
		a.PointerKey = target(site)
	}
	return a, a.Check(distributionID)
}

// pointer is the live pointer a names, through api.
func (a AtomicOptions) pointer(api KeyValueStoreAPI) pointer {
	return pointer{api: api, arn: a.KeyValueStore, key: a.PointerKey}
}
