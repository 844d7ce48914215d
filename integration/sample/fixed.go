package sample

import (
	"context"
	"fmt"
	"time"
)

// Roles of the first roleCount pool layers in the fixed images. The rest of
// the pool is spread over all images as extra layers.
const (
	roleBase     = iota // alpha, alpha/tools, team/beta v1, group/sub/app, multi amd64
	roleAlphaOld        // only the deleted alpha:0.9
	roleAlpha1          // alpha 1.0 and 2.0
	roleAlpha2          // alpha 2.0
	roleTools           // alpha/tools
	roleBeta1           // team/beta v1 and group/sub/app: shared across repositories
	roleBeta2a          // team/beta v2
	roleBeta2b          // team/beta v2
	roleApp             // group/sub/app
	roleArmBase         // multi arm64 children
	roleMulti           // multi amd64 children of both the list and the index
	roleListArm         // multi list arm64 child
	roleIndexAmd        // multi index amd64 child
	roleIndexArm        // multi index arm64 child
	roleCount
)

// maxExtras caps the extra pool layers per image; beyond it, bulk images
// ("build-NNN" tags) take the rest.
const maxExtras = 16

var (
	amd64 = &Platform{Architecture: "amd64", OS: "linux"}
	arm64 = &Platform{Architecture: "arm64", OS: "linux", Variant: "v8"}
)

// storePool plans the layer pool for Options.LayerBytes and writes its blobs
// in parallel.
func (g *generator) storePool(ctx context.Context) ([]*layer, error) {
	sizes := planLayerSizes(g.rng, g.opts.LayerBytes)
	pool := make([]*layer, len(sizes))
	for i, s := range sizes {
		pool[i] = newLayer(g.opts.Seed, fmt.Sprintf("pool/%d", i), s)
	}
	err := forEach(ctx, len(pool), func(ctx context.Context, i int) error { return pool[i].store(ctx, g) })
	return pool, err
}

// pushFixed pushes the fixed repositories, moves alpha:latest and deletes
// alpha:0.9's manifest.
func (g *generator) pushFixed(ctx context.Context, pool []*layer) error {
	r := pool[:roleCount]
	img := func(repo, name string, oci bool, p *Platform, roles ...int) *imageSpec {
		s := &imageSpec{repo: repo, name: name, oci: oci, platform: p}
		for _, i := range roles {
			s.layers = append(s.layers, r[i])
		}
		return s
	}
	var (
		alpha0 = img("alpha", "0.9", false, nil, roleBase, roleAlphaOld)
		alpha1 = img("alpha", "1.0", false, nil, roleBase, roleAlpha1)
		alpha2 = img("alpha", "2.0", false, nil, roleBase, roleAlpha1, roleAlpha2)
		tools  = img("alpha/tools", "latest", false, nil, roleBase, roleTools)
		beta1  = img("team/beta", "v1", true, nil, roleBase, roleBeta1)
		beta2  = img("team/beta", "v2", true, nil, roleBeta2a, roleBeta2b)
		app    = img("group/sub/app", "1.0", false, nil, roleBase, roleBeta1, roleApp)
		listA  = img("multi", "list-amd64", false, amd64, roleBase, roleMulti)
		listB  = img("multi", "list-arm64", false, arm64, roleArmBase, roleListArm)
		indexA = img("multi", "index-amd64", true, amd64, roleBase, roleMulti, roleIndexAmd)
		indexB = img("multi", "index-arm64", true, arm64, roleArmBase, roleIndexArm)
	)
	beta1.noMediaType = true
	all := []*imageSpec{alpha0, alpha1, alpha2, tools, beta1, beta2, app, listA, listB, indexA, indexB}

	fixed := len(all)
	extras := pool[roleCount:]
	bulkRepos := []string{"alpha", "team/beta", "group/sub/app"}
	for i := 0; len(all)*maxExtras < len(extras); i++ {
		repo := bulkRepos[i%len(bulkRepos)]
		all = append(all, img(repo, fmt.Sprintf("build-%03d", i), repo == "team/beta", nil, roleBase))
	}
	for i, l := range extras {
		s := all[i%len(all)]
		s.layers = append(s.layers, l)
	}
	for i, s := range all {
		s.created = epoch.Add(time.Duration(i) * time.Hour)
	}

	push := func(s *imageSpec, tags ...string) (Descriptor, error) {
		desc, err := g.pushImage(ctx, s)
		for _, t := range tags {
			if err != nil {
				break
			}
			err = g.tag(ctx, s.repo, t, desc)
		}
		return desc, err
	}
	var old Descriptor
	steps := []func() error{
		func() (err error) { old, err = push(alpha0, "0.9"); return err },
		func() error { _, err := push(alpha1, "1.0", "latest"); return err },
		func() error { _, err := push(alpha2, "2.0", "latest"); return err }, // moves latest
		func() error { return g.deleteManifest(ctx, "alpha", old.Digest) },
		func() error { _, err := push(tools, "latest"); return err },
		func() error { _, err := push(beta1, "v1"); return err },
		func() error { _, err := push(beta2, "v2", "latest"); return err },
		func() error { _, err := push(app, "1.0", "stable"); return err },
		func() error { return g.pushMulti(ctx, MediaTypeDockerManifestList, "latest", listA, listB) },
		func() error { return g.pushMulti(ctx, MediaTypeOCIIndex, "oci", indexA, indexB) },
	}
	for _, s := range all[fixed:] {
		steps = append(steps, func() error { _, err := push(s, s.name); return err })
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return err
		}
	}
	return nil
}

// pushMulti pushes the children (untagged), then an index of mediaType over
// them, tagged tag.
func (g *generator) pushMulti(ctx context.Context, mediaType, tag string, children ...*imageSpec) error {
	var descs []Descriptor
	for _, c := range children {
		d, err := g.pushImage(ctx, c)
		if err != nil {
			return err
		}
		descs = append(descs, d)
	}
	desc, err := g.pushIndex(ctx, children[0].repo, mediaType, descs...)
	if err != nil {
		return err
	}
	return g.tag(ctx, children[0].repo, tag, desc)
}
