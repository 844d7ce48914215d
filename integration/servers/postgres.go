package servers

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresBinDir is where Debian's postgresql-15 puts initdb, pg_ctl,
// postgres, pg_dump and pg_restore (integration/setup.sh installs it).
const PostgresBinDir = "/usr/lib/postgresql/15/bin"

// PostgresPassword is the superuser's password in every cluster started here
// (password auth, scram-sha-256, loopback only).
const PostgresPassword = "regbackup-pg-secret"

// Postgres is a PostgreSQL cluster of this test run on 127.0.0.1.
type Postgres struct {
	Host     string // 127.0.0.1
	Port     int
	User     string // the superuser, "postgres"
	Password string
	BinDir   string // initdb, pg_dump, pg_restore, psql of the server's version
	Dir      string // data folder, socket and log live below it
	cmd      *exec.Cmd
	exited   chan struct{}
}

var (
	pgMu     sync.Mutex
	pgShared *Postgres
	pgSeq    atomic.Int64
)

// StartPostgres returns the PostgreSQL cluster of this test run (one per
// `go test` process), starting it at the first call: initdb in a temp dir
// with password auth, then postgres on a free loopback port. It is stopped
// by StopPostgres (call it from TestMain after m.Run) and, should the test
// process die first, by the parent-death signal the server runs with.
// Tests share it and use a database each (NewDatabase). Missing binaries
// skip the test, or fail it when CI=true.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	pgMu.Lock()
	defer pgMu.Unlock()
	if pgShared != nil {
		select {
		case <-pgShared.exited:
			t.Fatalf("postgres: the cluster of this test run has stopped; its log:\n%s", pgShared.log())
		default:
		}
		return pgShared
	}
	for _, b := range []string{"initdb", "postgres", "pg_dump", "pg_restore"} {
		if _, err := os.Stat(filepath.Join(PostgresBinDir, b)); err != nil {
			Missing(t, "PostgreSQL 15 (%s) not found: %s (apt-get install -y postgresql)", filepath.Join(PostgresBinDir, b), InstallHint)
		}
	}
	p, err := startPostgres()
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	pgShared = p
	return p
}

// StopPostgres stops the cluster StartPostgres started, if any, and removes
// its folder.
func StopPostgres() {
	pgMu.Lock()
	defer pgMu.Unlock()
	if pgShared == nil {
		return
	}
	pgShared.stop()
	os.RemoveAll(pgShared.Dir)
	pgShared = nil
}

// startPostgres makes and starts a cluster. As root, the server runs as
// user postgres (PostgreSQL refuses root).
func startPostgres() (*Postgres, error) {
	dir, err := os.MkdirTemp("", "regbackup-pg-")
	if err != nil {
		return nil, err
	}
	cred, err := postgresCredential()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	p := &Postgres{Host: "127.0.0.1", User: "postgres", Password: PostgresPassword, BinDir: PostgresBinDir, Dir: dir}
	fail := func(err error) (*Postgres, error) {
		os.RemoveAll(dir)
		return nil, err
	}
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte(p.Password+"\n"), 0o600); err != nil {
		return fail(err)
	}
	if cred != nil {
		for _, f := range []string{dir, pw} {
			if err := os.Chown(f, int(cred.Uid), int(cred.Gid)); err != nil {
				return fail(err)
			}
		}
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		return fail(err)
	}
	initdb := exec.Command(filepath.Join(p.BinDir, "initdb"), "-D", filepath.Join(dir, "data"), "-U", p.User,
		"--pwfile="+pw, "-A", "scram-sha-256", "--no-sync", "-E", "UTF8", "--locale=C")
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return fail(fmt.Errorf("initdb: %v\n%s", err, out))
	}
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		if lastErr = p.serve(cred); lastErr == nil {
			return p, nil
		}
	}
	return fail(lastErr)
}

// serve starts postgres on a free port and waits until it accepts a login.
func (p *Postgres) serve(cred *syscall.Credential) error {
	l, err := listenFree()
	if err != nil {
		return err
	}
	p.Port = l
	logFile := filepath.Join(p.Dir, "log")
	lf, err := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	cmd := exec.Command(filepath.Join(p.BinDir, "postgres"), "-D", filepath.Join(p.Dir, "data"),
		"-p", strconv.Itoa(p.Port), "-k", p.Dir, "-c", "listen_addresses=127.0.0.1",
		"-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off",
	)
	cmd.Stdout, cmd.Stderr = lf, lf
	// SIGINT is PostgreSQL's fast shutdown: sent by the kernel when this
	// process dies before StopPostgres ran.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Setpgid: true, Pdeathsig: syscall.SIGINT}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return fmt.Errorf("start postgres: %w", err)
	}
	p.cmd, p.exited = cmd, make(chan struct{})
	go func(exited chan struct{}) {
		cmd.Wait()
		lf.Close()
		close(exited)
	}(p.exited)
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-p.exited:
			return fmt.Errorf("postgres exited at start; its log:\n%s", p.log())
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		c, err := pgx.Connect(ctx, p.URL("postgres"))
		if err == nil {
			c.Close(ctx)
			cancel()
			return nil
		}
		cancel()
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
	return fmt.Errorf("postgres did not accept logins in 60 s; its log:\n%s", p.log())
}

// stop shuts the server down (fast), then kills it after 10 s.
func (p *Postgres) stop() {
	if p.cmd == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
	case <-time.After(10 * time.Second):
		syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

func (p *Postgres) log() string {
	b, _ := os.ReadFile(filepath.Join(p.Dir, "log"))
	return string(b)
}

// postgresCredential is user postgres when running as root, nil otherwise.
func postgresCredential() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root, and there is no user postgres to run PostgreSQL as (apt-get install -y postgresql creates it): %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, nil
}

// listenFree returns a loopback port that was free a moment ago.
func listenFree() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// URL is a connection URL for database dbname as the superuser.
func (p *Postgres) URL(dbname string) string {
	return fmt.Sprintf("postgres://%s:%s@%s:%d/%s?sslmode=disable", p.User, p.Password, p.Host, p.Port, dbname)
}

// Exec runs SQL statements in database dbname as the superuser.
func (p *Postgres) Exec(t testing.TB, dbname string, sql ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	c, err := pgx.Connect(ctx, p.URL(dbname))
	if err != nil {
		t.Fatalf("postgres: connect to %s: %v", dbname, err)
	}
	defer c.Close(ctx)
	for _, s := range sql {
		if _, err := c.Exec(ctx, s); err != nil {
			t.Fatalf("postgres: %s: %v", s, err)
		}
	}
}

// NewDatabase creates a database of its own for t — a copy of template when
// template is not empty (CREATE DATABASE ... TEMPLATE, well under a second)
// — and returns its name. It is dropped at the end of t.
func (p *Postgres) NewDatabase(t testing.TB, template string) string {
	t.Helper()
	name := fmt.Sprintf("t%d_%d", os.Getpid(), pgSeq.Add(1))
	q := "CREATE DATABASE " + name
	if template != "" {
		q += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	p.Exec(t, "postgres", q)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if c, err := pgx.Connect(ctx, p.URL("postgres")); err == nil {
			c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			c.Close(ctx)
		}
	})
	return name
}
