package metadb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// Dump writes the database, as the snapshot sees it, to w in pg_dump's
// custom format (-Fc: restored with pg_restore in any order and with
// --clean when needed), streaming: pg_dump's output goes to w as it comes.
// With raw, pg_dump does not compress (--compress=0): for a caller that
// compresses the stream itself, where pg_dump's zlib would be most of the
// backup's time and its output compressed twice. It refuses tools older
// than the server (ErrToolTooOld). The snapshot must be open.
func (s *Snapshot) Dump(ctx context.Context, tools *Tools, w io.Writer, raw bool) error {
	if s.tx == nil {
		return errors.New("metadb: Dump on a closed snapshot")
	}
	if err := tools.CanDump(s.Server); err != nil {
		return err
	}
	cfg := s.db.cfg
	args := []string{"--format=custom", "--snapshot=" + s.ID, "--no-password"}
	if raw {
		args = append(args, "--compress=0")
	}
	cmd := exec.CommandContext(ctx, tools.PGDump, args...)
	cmd.Env = toolEnv(cfg)
	cmd.SysProcAttr = childAttr()
	cmd.Stdout = w
	var stderr bytes.Buffer
	cmd.Stderr = &limited{w: &stderr, n: 8 << 10}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return s.db.errorf("pg_dump: %v: %s", err, oneLine(redact(stderr.String(), cfg.Password)))
	}
	return nil
}

// limited keeps the first n bytes written to it.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// toolError is one line for a failed pg_restore or psql.
func toolError(name string, err error, stderr string, password string) error {
	msg := oneLine(redact(stderr, password))
	if msg == "" {
		return fmt.Errorf("%s: %v", name, err)
	}
	return fmt.Errorf("%s: %v: %s", name, err, strings.TrimSpace(msg))
}
