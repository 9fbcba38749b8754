package sitepublish

import (
	"fmt"
	"sort"
	"strings"
)

// Change is one file a publish uploads.
type Change struct {
	Path   string // relative to the site root
	Size   int64
	Reason string // "new", "changed" or "headers changed"
}

// SitePlan is what a publish would do. String() prints it for people.
type SitePlan struct {
	Site    string   // s3://bucket/prefix/
	Upload  []Change // in upload order: assets, then HTML, then the root index.html
	Skipped []string // unchanged paths
	Delete  []string // remote paths not in the build, deleted after the uploads

	files  map[string]localFile
	remote remoteSet
}

// Empty reports whether the plan changes nothing.
func (p *SitePlan) Empty() bool { return len(p.Upload) == 0 && len(p.Delete) == 0 }

func (p *SitePlan) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "plan for %s: %d to upload, %d unchanged, %d to delete\n", p.Site, len(p.Upload), len(p.Skipped), len(p.Delete))
	for _, c := range p.Upload {
		fmt.Fprintf(&b, "  upload  %s (%s, %d bytes)\n", c.Path, c.Reason, c.Size)
	}
	for _, d := range p.Delete {
		fmt.Fprintf(&b, "  delete  %s\n", d)
	}
	return b.String()
}

// upload phases: assets first, HTML next, the root index.html last, so a
// page never references an asset that is not there yet.
const (
	phaseAsset = iota
	phaseHTML
	phaseIndex
)

func phase(rel string, h headers) int {
	switch {
	case rel == "index.html":
		return phaseIndex
	case strings.HasPrefix(h.ContentType, "text/html"):
		return phaseHTML
	}
	return phaseAsset
}

// buildPlan diffs the build against the resolved remote site.
func buildPlan(site location, files []localFile, remote remoteSet) *SitePlan {
	p := &SitePlan{Site: site.String(), files: map[string]localFile{}, remote: remote}
	for _, f := range files {
		p.files[f.Rel] = f
		r, ok := remote[f.Rel]
		switch {
		case !ok:
			p.Upload = append(p.Upload, Change{Path: f.Rel, Size: f.Size, Reason: "new"})
		case r.SHA256 != f.SHA256:
			p.Upload = append(p.Upload, Change{Path: f.Rel, Size: f.Size, Reason: "changed"})
		case r.Headers.sig() != f.Headers.sig():
			p.Upload = append(p.Upload, Change{Path: f.Rel, Size: f.Size, Reason: "headers changed"})
		default:
			p.Skipped = append(p.Skipped, f.Rel)
		}
	}
	for rel := range remote {
		if _, ok := p.files[rel]; !ok {
			p.Delete = append(p.Delete, rel)
		}
	}
	sort.Strings(p.Delete)
	sort.SliceStable(p.Upload, func(i, j int) bool {
		a, b := p.Upload[i].Path, p.Upload[j].Path
		pa, pb := phase(a, p.files[a].Headers), phase(b, p.files[b].Headers)
		if pa != pb {
			return pa < pb
		}
		return a < b
	})
	return p
}

// phases splits the uploads into their ordered phases.
func (p *SitePlan) phases() [][]Change {
	out := make([][]Change, 3)
	for _, c := range p.Upload {
		ph := phase(c.Path, p.files[c.Path].Headers)
		out[ph] = append(out[ph], c)
	}
	return out
}

// touched lists the remote paths the publish overwrites or deletes: what
// its backup must hold.
func (p *SitePlan) touched() []string {
	var rels []string
	for _, c := range p.Upload {
		if _, ok := p.remote[c.Path]; ok {
			rels = append(rels, c.Path)
		}
	}
	return append(rels, p.Delete...)
}
