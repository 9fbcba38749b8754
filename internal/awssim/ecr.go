package awssim

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"
)

// errNoRegistry tells a test that it forgot to give the simulator a registry.
func errNoRegistry() error {
	return &APIError{Status: http.StatusInternalServerError, Code: "ServerException",
		Message: "awssim: no registry configured: call sim.ECR.UseRegistry(host, password) first"}
}

// ecrTokenLifetime is how long an authorization token is valid, as in AWS.
const ecrTokenLifetime = 12 * time.Hour

// ECR simulates the ECR API (JSON 1.1, target AmazonEC2ContainerRegistry_V20150921)
// in front of a real OCI registry: repositories live here, images live in the
// registry configured with UseRegistry, which DescribeImages asks.
type ECR struct {
	s *Server

	mu           sync.Mutex
	repos        map[string]*ecrRepository
	registryHost string // "127.0.0.1:port": repository URIs and proxyEndpoint
	registryAddr string // where the simulator itself reaches the registry
	password     string // the registry's password for user "AWS"
	seen         map[string]time.Time
	http         *http.Client
}

type ecrRepository struct {
	name       string
	createdAt  time.Time
	mutability string
}

func newECR(s *Server) *ECR {
	return &ECR{s: s, repos: map[string]*ecrRepository{}, http: &http.Client{Timeout: 10 * time.Second}}
}

// UseRegistry points the simulated ECR at a real registry: repository URIs
// become host/name, GetAuthorizationToken hands out "AWS:"+password and
// DescribeImages asks that registry, over plain HTTP, with those credentials.
func (x *ECR) UseRegistry(host, password string) {
	x.UseRegistryAt(host, host, password)
}

// UseRegistryAt is UseRegistry for a registry that clients know under
// another name than the simulator reaches it at: repository URIs and the
// token's proxyEndpoint say name (e.g. localhost:4566 for the sandbox,
// where the registry sits behind the gateway), while DescribeImages asks
// addr (e.g. 127.0.0.1:5000).
func (x *ECR) UseRegistryAt(name, addr, password string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.registryHost, x.registryAddr, x.password = name, addr, password
}

// CreateRepository creates a repository with mutable tags (if it does not
// exist yet) and returns its URI.
func (x *ECR) CreateRepository(name string) string {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.repos[name]; !ok {
		x.repos[name] = &ecrRepository{name: name, createdAt: time.Now(), mutability: "MUTABLE"}
	}
	return x.host() + "/" + name
}

// host returns the registry host; the caller holds mu.
func (x *ECR) host() string {
	if x.registryHost != "" {
		return x.registryHost
	}
	return x.s.opts.AccountID + ".dkr.ecr." + x.s.opts.Region + ".amazonaws.com"
}

func (x *ECR) handle(op string, body []byte) (any, error) {
	switch op {
	case "GetAuthorizationToken":
		return x.getAuthorizationToken()
	case "CreateRepository":
		return x.createRepository(body)
	case "DescribeRepositories":
		return x.describeRepositories(body)
	case "DescribeImages":
		return x.describeImages(body)
	}
	return nil, clientError("UnknownOperationException", "operation %s is not simulated", op)
}

// epochSeconds is a JSON 1.1 timestamp: seconds since the epoch as a number.
func epochSeconds(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (x *ECR) getAuthorizationToken() (any, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.registryHost == "" {
		return nil, errNoRegistry()
	}
	type authData struct {
		AuthorizationToken string  `json:"authorizationToken"`
		ExpiresAt          float64 `json:"expiresAt"`
		ProxyEndpoint      string  `json:"proxyEndpoint"`
	}
	return map[string][]authData{"authorizationData": {{
		AuthorizationToken: base64.StdEncoding.EncodeToString([]byte("AWS:" + x.password)),
		ExpiresAt:          epochSeconds(time.Now().Add(ecrTokenLifetime)),
		ProxyEndpoint:      "http://" + x.registryHost,
	}}}, nil
}

type ecrRepositoryJSON struct {
	RepositoryArn      string  `json:"repositoryArn"`
	RegistryID         string  `json:"registryId"`
	RepositoryName     string  `json:"repositoryName"`
	RepositoryURI      string  `json:"repositoryUri"`
	CreatedAt          float64 `json:"createdAt"`
	ImageTagMutability string  `json:"imageTagMutability"`
}

// toJSON renders a repository; the caller holds mu.
func (x *ECR) toJSON(r *ecrRepository) ecrRepositoryJSON {
	o := x.s.opts
	return ecrRepositoryJSON{
		RepositoryArn:      "arn:aws:ecr:" + o.Region + ":" + o.AccountID + ":repository/" + r.name,
		RegistryID:         o.AccountID,
		RepositoryName:     r.name,
		RepositoryURI:      x.host() + "/" + r.name,
		CreatedAt:          epochSeconds(r.createdAt),
		ImageTagMutability: r.mutability,
	}
}

func (x *ECR) createRepository(body []byte) (any, error) {
	var in struct {
		RepositoryName     string `json:"repositoryName"`
		ImageTagMutability string `json:"imageTagMutability"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	if in.RepositoryName == "" {
		return nil, clientError("InvalidParameterException", "Invalid parameter at 'repositoryName' failed to satisfy constraint: 'must not be empty'")
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.repos[in.RepositoryName]; ok {
		return nil, clientError("RepositoryAlreadyExistsException",
			"The repository with name '%s' already exists in the registry with id '%s'", in.RepositoryName, x.s.opts.AccountID)
	}
	r := &ecrRepository{name: in.RepositoryName, createdAt: time.Now(), mutability: "MUTABLE"}
	if in.ImageTagMutability != "" {
		r.mutability = in.ImageTagMutability
	}
	x.repos[r.name] = r
	return map[string]any{"repository": x.toJSON(r)}, nil
}

func (x *ECR) describeRepositories(body []byte) (any, error) {
	var in struct {
		RepositoryNames []string `json:"repositoryNames"`
		NextToken       string   `json:"nextToken"`
		MaxResults      int      `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	names := in.RepositoryNames
	if len(names) == 0 {
		for name := range x.repos {
			names = append(names, name)
		}
		sort.Strings(names)
	}
	out := []ecrRepositoryJSON{}
	for _, name := range names {
		r, ok := x.repos[name]
		if !ok {
			return nil, x.repositoryNotFound(name)
		}
		out = append(out, x.toJSON(r))
	}
	page, next, err := paginate(len(out), in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return map[string]any{"repositories": out[page[0]:page[1]], "nextToken": next}, nil
}

// repositoryNotFound is AWS's error for a missing repository.
func (x *ECR) repositoryNotFound(name string) error {
	return clientError("RepositoryNotFoundException",
		"The repository with name '%s' does not exist in the registry with id '%s'", name, x.s.opts.AccountID)
}

// paginate returns the [start, end) slice of n items for a page and the
// token of the next page ("" on the last; omitted from the JSON).
func paginate(n int, token string, maxResults int) ([2]int, *string, error) {
	start := 0
	if token != "" {
		v, err := strconv.Atoi(token)
		if err != nil || v < 0 || v > n {
			return [2]int{}, nil, clientError("InvalidParameterException", "Invalid parameter at 'nextToken'")
		}
		start = v
	}
	end := n
	if maxResults > 0 && start+maxResults < n {
		end = start + maxResults
	}
	if end == n {
		return [2]int{start, end}, nil, nil
	}
	next := strconv.Itoa(end)
	return [2]int{start, end}, &next, nil
}

type ecrImageID struct {
	ImageDigest string `json:"imageDigest,omitempty"`
	ImageTag    string `json:"imageTag,omitempty"`
}

type ecrImageDetail struct {
	RegistryID             string   `json:"registryId"`
	RepositoryName         string   `json:"repositoryName"`
	ImageDigest            string   `json:"imageDigest"`
	ImageTags              []string `json:"imageTags,omitempty"`
	ImageSizeInBytes       int64    `json:"imageSizeInBytes"`
	ImagePushedAt          float64  `json:"imagePushedAt"`
	ImageManifestMediaType string   `json:"imageManifestMediaType,omitempty"`
}

func (x *ECR) describeImages(body []byte) (any, error) {
	var in struct {
		RepositoryName string       `json:"repositoryName"`
		ImageIDs       []ecrImageID `json:"imageIds"`
		NextToken      string       `json:"nextToken"`
		MaxResults     int          `json:"maxResults"`
	}
	if err := decode(body, &in); err != nil {
		return nil, err
	}
	reg, err := x.registryFor(in.RepositoryName)
	if err != nil {
		return nil, err
	}
	tags, err := reg.tagsByDigest()
	if err != nil {
		return nil, err
	}
	refs := in.ImageIDs
	if len(refs) == 0 {
		for digest := range tags {
			refs = append(refs, ecrImageID{ImageDigest: digest})
		}
		sort.Slice(refs, func(i, j int) bool { return refs[i].ImageDigest < refs[j].ImageDigest })
	}
	details := []ecrImageDetail{}
	for _, id := range refs {
		m, err := reg.manifest(id)
		if err != nil {
			return nil, err
		}
		details = append(details, ecrImageDetail{
			RegistryID: x.s.opts.AccountID, RepositoryName: in.RepositoryName, ImageDigest: m.digest,
			ImageTags: tags[m.digest], ImageSizeInBytes: m.size, ImagePushedAt: epochSeconds(x.pushedAt(m.digest)),
			ImageManifestMediaType: m.mediaType,
		})
	}
	page, next, err := paginate(len(details), in.NextToken, in.MaxResults)
	if err != nil {
		return nil, err
	}
	return map[string]any{"imageDetails": details[page[0]:page[1]], "nextToken": next}, nil
}

// pushedAt returns when the simulator first saw a digest: the registry does
// not say when a manifest was pushed.
func (x *ECR) pushedAt(digest string) time.Time {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.seen == nil {
		x.seen = map[string]time.Time{}
	}
	if _, ok := x.seen[digest]; !ok {
		x.seen[digest] = time.Now()
	}
	return x.seen[digest]
}

// ecrRegistryRepo reads one repository of the configured registry.
type ecrRegistryRepo struct {
	x                    *ECR
	base, name, password string
}

// registryFor checks that the repository exists and returns a reader for it.
func (x *ECR) registryFor(name string) (*ecrRegistryRepo, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if _, ok := x.repos[name]; !ok {
		return nil, x.repositoryNotFound(name)
	}
	if x.registryHost == "" {
		return nil, errNoRegistry()
	}
	return &ecrRegistryRepo{x: x, base: "http://" + x.registryAddr + "/v2/" + name, name: name, password: x.password}, nil
}

// get sends an authenticated GET; a 404 returns a nil response and no error.
func (r *ecrRegistryRepo) get(path string, accept ...string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, r.base+path, nil)
	if err != nil {
		return nil, err
	}
	req.SetBasicAuth("AWS", r.password)
	for _, a := range accept {
		req.Header.Add("Accept", a)
	}
	resp, err := r.x.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("awssim: ask registry for %s%s: %w", r.name, path, err)
	}
	if resp.StatusCode == http.StatusNotFound {
		resp.Body.Close()
		return nil, nil
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, fmt.Errorf("awssim: ask registry for %s%s: HTTP %d", r.name, path, resp.StatusCode)
	}
	return resp, nil
}

// tagsByDigest lists the repository's tags grouped by the manifest they point at.
func (r *ecrRegistryRepo) tagsByDigest() (map[string][]string, error) {
	resp, err := r.get("/tags/list")
	if err != nil || resp == nil {
		return map[string][]string{}, err
	}
	defer resp.Body.Close()
	var list struct {
		Tags []string `json:"tags"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		return nil, fmt.Errorf("awssim: decode tag list of %s: %w", r.name, err)
	}
	out := map[string][]string{}
	for _, tag := range list.Tags {
		m, err := r.manifest(ecrImageID{ImageTag: tag})
		if err != nil {
			return nil, err
		}
		out[m.digest] = append(out[m.digest], tag)
	}
	return out, nil
}

type ecrManifest struct {
	digest, mediaType string
	size              int64
}

var manifestTypes = []string{
	"application/vnd.oci.image.index.v1+json",
	"application/vnd.oci.image.manifest.v1+json",
	"application/vnd.docker.distribution.manifest.list.v2+json",
	"application/vnd.docker.distribution.manifest.v2+json",
}

// manifest fetches the manifest an image id names (by digest if given,
// else by tag), or returns ImageNotFoundException.
func (r *ecrRegistryRepo) manifest(id ecrImageID) (*ecrManifest, error) {
	ref := id.ImageDigest
	if ref == "" {
		ref = id.ImageTag
	}
	resp, err := r.get("/manifests/"+ref, manifestTypes...)
	if err != nil {
		return nil, err
	}
	if resp == nil || ref == "" {
		return nil, r.imageNotFound(id)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("awssim: read manifest %s of %s: %w", ref, r.name, err)
	}
	var doc struct {
		Config    struct{ Size int64 }   `json:"config"`
		Layers    []struct{ Size int64 } `json:"layers"`
		Manifests []struct{ Size int64 } `json:"manifests"`
	}
	_ = json.Unmarshal(raw, &doc) // sizes are informative; a manifest we cannot read counts as 0 bytes
	size := doc.Config.Size
	for _, l := range append(doc.Layers, doc.Manifests...) {
		size += l.Size
	}
	return &ecrManifest{digest: resp.Header.Get("Docker-Content-Digest"), mediaType: resp.Header.Get("Content-Type"), size: size}, nil
}

// imageNotFound is AWS's error for a missing image.
func (r *ecrRegistryRepo) imageNotFound(id ecrImageID) error {
	show := func(s string) string {
		if s == "" {
			return "null"
		}
		return s
	}
	return clientError("ImageNotFoundException",
		"The image with imageId {imageDigest:'%s', imageTag:'%s'} does not exist within the repository with name '%s' in the registry with id '%s'",
		show(id.ImageDigest), show(id.ImageTag), r.name, r.x.s.opts.AccountID)
}
