package metadb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Version is a PostgreSQL version: of a server, or of a client program.
type Version struct {
	Major int    // 15
	Minor int    // 18
	Text  string // as reported, e.g. "15.18 (Debian 15.18-0+deb12u1)"
}

func (v Version) String() string {
	if v.Text != "" {
		return v.Text
	}
	return fmt.Sprintf("%d.%d", v.Major, v.Minor)
}

// serverVersion reads SHOW server_version_num (150018) and server_version.
func serverVersion(num, text string) (Version, error) {
	n, err := strconv.Atoi(strings.TrimSpace(num))
	if err != nil || n < 100000 {
		return Version{}, fmt.Errorf("PostgreSQL server version %q: regbackup needs 10 or newer (GitLab's registry needs 12 or newer)", text)
	}
	return Version{Major: n / 10000, Minor: n % 10000, Text: strings.TrimSpace(text)}, nil
}

var toolVersion = regexp.MustCompile(`\(PostgreSQL\) (\d+)(?:\.(\d+))?`)

// OmnibusBin is where Omnibus GitLab ships its PostgreSQL client programs.
const OmnibusBin = "/opt/gitlab/embedded/bin"

// ErrToolTooOld is returned (wrapped) when pg_dump is older than the server:
// pg_dump refuses such servers, and its dump could miss what it does not
// know.
var ErrToolTooOld = errors.New("pg_dump is older than the database server")

// Tools are the PostgreSQL client programs of one installation.
type Tools struct {
	Dir       string  // the folder they are in
	PGDump    string  // paths
	PGRestore string  //
	PSQL      string  //
	Version   Version // pg_dump --version
}

// FindTools finds pg_dump, pg_restore and psql. With dir (--pg-bin), those
// in dir. Without, the newest of: the folder of pg_dump in PATH,
// /usr/lib/postgresql/*/bin (Debian, Ubuntu) and /opt/gitlab/embedded/bin
// (Omnibus GitLab); a newer pg_dump reads older servers, not the reverse.
func FindTools(dir string) (*Tools, error) {
	if dir != "" {
		t, err := toolsIn(dir)
		if err != nil {
			return nil, fmt.Errorf("--pg-bin %s: %w", dir, err)
		}
		return t, nil
	}
	var dirs []string
	if p, err := exec.LookPath("pg_dump"); err == nil {
		if r, err := filepath.EvalSymlinks(p); err == nil && filepath.Base(r) == "pg_wrapper" {
			// Debian's wrapper picks a version by cluster; look at the real ones.
		} else {
			dirs = append(dirs, filepath.Dir(p))
		}
	}
	debian, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	dirs = append(dirs, debian...)
	dirs = append(dirs, OmnibusBin)
	var found []*Tools
	var errs []string
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_dump")); err != nil {
			continue
		}
		t, err := toolsIn(d)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		found = append(found, t)
	}
	if len(found) == 0 {
		if len(errs) > 0 {
			return nil, fmt.Errorf("no usable PostgreSQL client programs: %s", strings.Join(errs, "; "))
		}
		return nil, fmt.Errorf("pg_dump, pg_restore and psql not found (in PATH, /usr/lib/postgresql/*/bin or %s): install the PostgreSQL client (apt-get install postgresql-client) or give their folder with --pg-bin DIR", OmnibusBin)
	}
	sort.SliceStable(found, func(i, j int) bool {
		a, b := found[i].Version, found[j].Version
		return a.Major > b.Major || (a.Major == b.Major && a.Minor > b.Minor)
	})
	return found[0], nil
}

// toolsIn checks the three programs in dir and reads pg_dump's version.
func toolsIn(dir string) (*Tools, error) {
	t := &Tools{Dir: dir}
	for name, p := range map[string]*string{"pg_dump": &t.PGDump, "pg_restore": &t.PGRestore, "psql": &t.PSQL} {
		f := filepath.Join(dir, name)
		fi, err := os.Stat(f)
		if err != nil || fi.IsDir() || fi.Mode().Perm()&0o111 == 0 {
			return nil, fmt.Errorf("no %s in %s", name, dir)
		}
		*p = f
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, t.PGDump, "--version").Output()
	if err != nil {
		return nil, fmt.Errorf("%s --version: %w", t.PGDump, err)
	}
	m := toolVersion.FindStringSubmatch(string(out))
	if m == nil {
		return nil, fmt.Errorf("%s --version: unexpected answer %q", t.PGDump, strings.TrimSpace(string(out)))
	}
	t.Version.Major, _ = strconv.Atoi(m[1])
	t.Version.Minor, _ = strconv.Atoi(m[2])
	t.Version.Text = strings.TrimSpace(strings.TrimPrefix(string(out), "pg_dump (PostgreSQL) "))
	return t, nil
}

// CanDump returns nil when these tools can dump a server of version v, and
// otherwise an error wrapping ErrToolTooOld that names both versions and
// where a matching pg_dump may be.
func (t *Tools) CanDump(v Version) error {
	if t.Version.Major >= v.Major {
		return nil
	}
	return fmt.Errorf("%w: %s is PostgreSQL %s, the registry database's server is PostgreSQL %s; give a pg_dump of version %d or newer with --pg-bin DIR (Omnibus GitLab ships its own in %s)",
		ErrToolTooOld, t.PGDump, t.Version, v, v.Major, OmnibusBin)
}
