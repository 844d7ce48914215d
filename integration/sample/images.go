package sample

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// imageSpec is one image to push.
type imageSpec struct {
	repo        string
	name        string // unique label stored in the config, so configs differ
	oci         bool   // OCI media types instead of Docker schema2
	noMediaType bool   // leave mediaType out of the manifest JSON (OCI allows it)
	platform    *Platform
	created     time.Time
	layers      []*layer
}

// epoch is the creation time of the first image; later ones follow it.
var epoch = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func (s *imageSpec) config() ImageConfig {
	p := Platform{Architecture: "amd64", OS: "linux"}
	if s.platform != nil {
		p = *s.platform
	}
	created := s.created.Format(time.RFC3339)
	c := ImageConfig{
		Created:      created,
		Architecture: p.Architecture,
		Variant:      p.Variant,
		OS:           p.OS,
		Config: ContainerConfig{
			Env:    []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"},
			Cmd:    []string{"/bin/sh"},
			Labels: map[string]string{"org.regbackup.sample": s.repo + ":" + s.name},
		},
		RootFS: RootFS{Type: "layers"},
	}
	for i, l := range s.layers {
		c.RootFS.DiffIDs = append(c.RootFS.DiffIDs, l.diffID)
		step := fmt.Sprintf("/bin/sh -c #(nop) ADD file:%s in / ", hexOf(l.digest)[:12])
		if i > 0 {
			step = fmt.Sprintf("RUN /bin/sh -c make step-%d # buildkit", i)
		}
		c.History = append(c.History, History{Created: created, CreatedBy: step})
	}
	return c
}

// pushImage links the image's layers (whose blobs must be stored), stores
// its config and manifest and writes the manifest's revisions link, in the
// registry's push order. The descriptor it returns carries s.platform.
func (g *generator) pushImage(ctx context.Context, s *imageSpec) (Descriptor, error) {
	mt, cmt, lmt := MediaTypeDockerManifest, MediaTypeDockerConfig, MediaTypeDockerLayer
	if s.oci {
		mt, cmt, lmt = MediaTypeOCIManifest, MediaTypeOCIConfig, MediaTypeOCILayer
	}
	m := Manifest{SchemaVersion: 2, MediaType: mt}
	for _, l := range s.layers {
		if err := g.putLink(ctx, LayerLinkPath(s.repo, l.digest), l.digest); err != nil {
			return Descriptor{}, err
		}
		m.Layers = append(m.Layers, Descriptor{MediaType: lmt, Digest: l.digest, Size: l.size})
	}
	cfg := canonical(s.config())
	cdg, err := g.putBlob(ctx, cfg)
	if err != nil {
		return Descriptor{}, err
	}
	if err := g.putLink(ctx, LayerLinkPath(s.repo, cdg), cdg); err != nil {
		return Descriptor{}, err
	}
	m.Config = Descriptor{MediaType: cmt, Digest: cdg, Size: int64(len(cfg))}
	if s.noMediaType {
		m.MediaType = ""
	}
	desc, err := g.pushManifest(ctx, s.repo, mt, canonical(m))
	desc.Platform = s.platform
	return desc, err
}

// pushIndex stores a manifest list or OCI index over children already pushed
// to repo, and its revisions link.
func (g *generator) pushIndex(ctx context.Context, repo, mediaType string, children ...Descriptor) (Descriptor, error) {
	return g.pushManifest(ctx, repo, mediaType, canonical(Index{SchemaVersion: 2, MediaType: mediaType, Manifests: children}))
}

func (g *generator) pushManifest(ctx context.Context, repo, mediaType string, b []byte) (Descriptor, error) {
	dg, err := g.putBlob(ctx, b)
	if err != nil {
		return Descriptor{}, err
	}
	if err := g.putLink(ctx, RevisionLinkPath(repo, dg), dg); err != nil {
		return Descriptor{}, err
	}
	return Descriptor{MediaType: mediaType, Digest: dg, Size: int64(len(b))}, nil
}

// tag points repo:tag at desc: index link first, current link last.
func (g *generator) tag(ctx context.Context, repo, tag string, desc Descriptor) error {
	if err := g.putLink(ctx, TagIndexLinkPath(repo, tag, desc.Digest), desc.Digest); err != nil {
		return err
	}
	if err := g.putLink(ctx, TagCurrentLinkPath(repo, tag), desc.Digest); err != nil {
		return err
	}
	g.mu.Lock()
	g.tags[[2]string{repo, tag}] = Image{Repo: repo, Tag: tag, Digest: desc.Digest, MediaType: desc.MediaType}
	g.mu.Unlock()
	return nil
}

// deleteManifest does what the registry does for DELETE /v2/<repo>/manifests/<digest>:
// it removes the revisions link, then every tag whose current link names the
// digest (the whole tag folder). Blobs and _layers links stay.
func (g *generator) deleteManifest(ctx context.Context, repo, digest string) error {
	if err := g.deleteLink(ctx, RevisionLinkPath(repo, digest)); err != nil {
		return err
	}
	g.mu.Lock()
	var doomed []string
	for k, im := range g.tags {
		if k[0] != repo || im.Digest != digest {
			continue
		}
		delete(g.tags, k)
		for p := range g.links {
			if strings.HasPrefix(p, tagPath(repo, k[1])+"/") {
				doomed = append(doomed, p)
			}
		}
	}
	g.deleted = append(g.deleted, digest)
	g.mu.Unlock()
	for _, p := range doomed {
		if err := g.deleteLink(ctx, p); err != nil {
			return err
		}
	}
	return nil
}
