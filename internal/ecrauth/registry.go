package ecrauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
)

// repository is one repository of a registry, as image references name it
// (host/path) and as this process reaches it (ref): the same, or the
// credentials' Endpoint in place of the host. Reads go through
// go-containerregistry, which answers the registry's auth challenge (basic
// or bearer), sends the Accept lists and speaks HTTPS, or plain HTTP where
// the credentials or a loopback host say so.
type repository struct {
	host, path string
	ref        name.Repository
	opts       []name.Option // name.Insecure for plain HTTP
	creds      *Credentials
}

// openRepository checks that creds log in to the registry of repositoryURI.
func openRepository(creds *Credentials, repositoryURI string) (*repository, error) {
	if creds == nil {
		return nil, errors.New("no registry credentials: log in first")
	}
	host, path, ok := strings.Cut(repositoryURI, "/")
	if !ok || host == "" || path == "" {
		return nil, fmt.Errorf("repository URI %q is not host/name", repositoryURI)
	}
	if host != creds.Registry {
		return nil, fmt.Errorf("the credentials are for registry %s, not %s: log in to the repository's registry", creds.Registry, host)
	}
	base, err := url.Parse(creds.BaseURL())
	if err != nil || base.Host == "" {
		return nil, fmt.Errorf("registry %s: endpoint %q is not a URL: set it to scheme://host[:port]", creds.Registry, creds.Endpoint)
	}
	var opts []name.Option
	if base.Scheme == "http" {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.NewRepository(base.Host+"/"+path, opts...)
	if err != nil {
		return nil, fmt.Errorf("repository URI %q: %w", repositoryURI, err)
	}
	return &repository{host: host, path: path, ref: ref, opts: opts, creds: creds}, nil
}

// reference is a tag or a digest (algorithm:hex) in the repository.
func (r *repository) reference(tagOrDigest string) (name.Reference, error) {
	if strings.Contains(tagOrDigest, ":") {
		return name.NewDigest(r.ref.Name()+"@"+tagOrDigest, r.opts...)
	}
	if err := ValidateTag(tagOrDigest); err != nil {
		return nil, err
	}
	return r.ref.Tag(tagOrDigest), nil
}

// display names ref as image references do: path:tag or path@digest.
func (r *repository) display(ref name.Reference) string {
	if _, ok := ref.(name.Digest); ok {
		return r.path + "@" + ref.Identifier()
	}
	return r.path + ":" + ref.Identifier()
}

// puller reads from the repository with the credentials; one puller answers
// the registry's auth challenge once for all its reads.
func (r *repository) puller(ctx context.Context) (*remote.Puller, error) {
	auth := authn.FromConfig(authn.AuthConfig{Username: r.creds.Username, Password: r.creds.Password})
	p, err := remote.NewPuller(remote.WithContext(ctx), remote.WithAuth(auth))
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", r.host, err)
	}
	return p, nil
}

// explain turns a failed read of what (e.g. "look up team/backend:v1") into
// an error that says what to do; a refusal of the credentials never quotes
// the registry's answer, which cannot hold the password anyway.
func (r *repository) explain(what string, err error) error {
	switch code := statusOf(err); {
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return fmt.Errorf("%s: registry %s refused the credentials for user %s (HTTP %d): log in again (ECR tokens expire after 12 hours) and check the role may pull from %s",
			what, r.host, r.creds.Username, code, r.path)
	case code == http.StatusNotFound && !manifestUnknown(err):
		return fmt.Errorf("%s in %s: %w: %s did not answer as a registry: check it is the registry's address", what, r.host, err, r.creds.BaseURL())
	}
	return fmt.Errorf("%s in %s: %w", what, r.host, err)
}

// statusOf is the HTTP status of the registry's answer that err reports, or 0.
func statusOf(err error) int {
	var terr *transport.Error
	if errors.As(err, &terr) {
		return terr.StatusCode
	}
	return 0
}

// manifestUnknown says err is the registry's 404 for the manifest itself
// (MANIFEST_UNKNOWN or NAME_UNKNOWN): the tag is absent, and a push may go
// ahead. A 404 from anywhere else (the /v2/ ping of a server that is no
// registry, a token server that is not there) says nothing about the tag.
func manifestUnknown(err error) bool {
	var terr *transport.Error
	return errors.As(err, &terr) && terr.StatusCode == http.StatusNotFound &&
		terr.Request != nil && strings.Contains(terr.Request.URL.Path, "/manifests/")
}

// BaseURL is where this process sends registry API requests.
func (c Credentials) BaseURL() string {
	if c.Endpoint != "" {
		return strings.TrimSuffix(c.Endpoint, "/")
	}
	if c.PlainHTTP {
		return "http://" + c.Registry
	}
	return scheme(c.Registry) + "://" + c.Registry
}

// scheme is http for loopback registries (tests, local mirrors), else https.
func scheme(host string) string {
	h := host
	if hostOnly, _, err := net.SplitHostPort(host); err == nil {
		h = hostOnly
	}
	if h == "localhost" || h == "127.0.0.1" || h == "::1" {
		return "http"
	}
	return "https"
}
