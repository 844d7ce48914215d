package check

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/regbackup/regbackup/archive"
	"github.com/regbackup/regbackup/blobio"
	"github.com/regbackup/regbackup/drivers"
	"github.com/regbackup/regbackup/snapshot"
)

// Upload is an upload in progress (repositories/<name>/_uploads/<id>/).
type Upload struct {
	Repository string    `json:"repository"`
	ID         string    `json:"id"`
	Path       string    `json:"path"`             // the upload's folder
	Started    time.Time `json:"started,omitzero"` // from its startedat file, else its newest file; zero if unknown
	AgeSeconds float64   `json:"age_seconds"`      // at the time of the check; 0 if unknown
	Size       int64     `json:"size"`             // bytes of all its files
}

// findUploads groups the files under _uploads/ by upload and keeps those
// older than opts.StaleUploads (or of unknown age).
func findUploads(ctx context.Context, s *snapshot.Snapshot, d drivers.Driver, opts Options, rep *Report) error {
	maxAge := opts.StaleUploads
	if maxAge <= 0 {
		maxAge = DefaultStaleUploads
	}
	byDir := map[string]*Upload{}
	var dirs []string
	for _, fi := range s.Uploads {
		before, after, _ := strings.Cut(fi.Path, "/_uploads/")
		id, _, _ := strings.Cut(after, "/")
		dir := before + "/_uploads/" + id
		u := byDir[dir]
		if u == nil {
			u = &Upload{Repository: strings.TrimPrefix(before, archive.RegistryRoot+"repositories/"), ID: id, Path: dir}
			byDir[dir] = u
			dirs = append(dirs, dir)
		}
		u.Size += fi.Size
		if fi.ModTime.After(u.Started) {
			u.Started = fi.ModTime // the newest file, until startedat says better
		}
	}
	sort.Strings(dirs)
	now := time.Now()
	rep.Uploads = len(dirs)
	rep.StaleUploads = []Upload{}
	for _, dir := range dirs {
		u := byDir[dir]
		data, err := blobio.ReadSmall(ctx, d, dir+"/startedat", 64)
		if err == nil {
			if t, perr := time.Parse(time.RFC3339, strings.TrimSpace(string(data))); perr == nil {
				u.Started = t.UTC()
			}
		} else if ctx.Err() != nil {
			return ctx.Err()
		}
		if !u.Started.IsZero() {
			u.AgeSeconds = now.Sub(u.Started).Round(time.Second).Seconds()
			if now.Sub(u.Started) < maxAge {
				continue
			}
		}
		rep.StaleUploads = append(rep.StaleUploads, *u)
		rep.StaleUploadBytes += u.Size
	}
	return nil
}
