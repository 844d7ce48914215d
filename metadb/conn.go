package metadb

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/regbackup/regbackup/drivers/regconfig"
)

// DefaultConnectTimeout bounds a connection attempt when the config sets no
// database.connecttimeout, so that an unreachable database is one error
// after a few seconds, not a hang.
const DefaultConnectTimeout = 10 * time.Second

// DB is one connection to a registry's metadata database. It is not safe
// for concurrent use.
type DB struct {
	cfg    regconfig.Database
	conn   *pgx.Conn
	server Version
}

// Open connects to the database cfg describes, as GitLab's registry does
// (the same libpq keywords; PG* environment variables fill what the config
// leaves empty). The error is one line naming the database without its
// password.
func Open(ctx context.Context, cfg regconfig.Database) (*DB, error) {
	pc, err := pgx.ParseConfig(dsn(cfg))
	if err != nil {
		return nil, fmt.Errorf("metadata database %s: %s", cfg, redact(err.Error(), cfg.Password))
	}
	if pc.ConnectTimeout == 0 {
		pc.ConnectTimeout = DefaultConnectTimeout
	}
	conn, err := pgx.ConnectConfig(ctx, pc)
	if err != nil {
		return nil, fmt.Errorf("metadata database %s: cannot connect: %s", cfg, oneLine(redact(err.Error(), cfg.Password)))
	}
	db := &DB{cfg: cfg, conn: conn}
	var num string
	if err := conn.QueryRow(ctx, "SHOW server_version_num").Scan(&num); err != nil {
		conn.Close(ctx)
		return nil, db.errorf("server version: %w", err)
	}
	var text string
	if err := conn.QueryRow(ctx, "SHOW server_version").Scan(&text); err != nil {
		conn.Close(ctx)
		return nil, db.errorf("server version: %w", err)
	}
	if db.server, err = serverVersion(num, text); err != nil {
		conn.Close(ctx)
		return nil, db.errorf("%w", err)
	}
	return db, nil
}

// Close ends the connection (and any snapshot still open on it).
func (db *DB) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return db.conn.Close(ctx)
}

// ServerVersion is the PostgreSQL server's version.
func (db *DB) ServerVersion() Version { return db.server }

// String names the database without its password.
func (db *DB) String() string { return db.cfg.String() }

func (db *DB) errorf(format string, args ...any) error {
	return fmt.Errorf("metadata database %s: %w", db.cfg, fmt.Errorf(format, args...))
}

// dsn is the connection string GitLab's registry builds
// (datastore.DSN.String): libpq keywords, empty ones left out, quotes and
// spaces escaped.
func dsn(cfg regconfig.Database) string {
	var out []string
	for _, kv := range keywords(cfg) {
		v := strings.ReplaceAll(kv[1], `\`, `\\`)
		v = strings.ReplaceAll(v, "'", `\'`)
		v = strings.ReplaceAll(v, " ", `\ `)
		out = append(out, kv[0]+"="+v)
	}
	return strings.Join(out, " ")
}

// keywords are cfg's libpq connection keywords and values, empty ones left
// out.
func keywords(cfg regconfig.Database) [][2]string {
	port, timeout := "", ""
	if cfg.Port > 0 {
		port = strconv.Itoa(cfg.Port)
	}
	if cfg.ConnectTimeout > 0 {
		timeout = fmt.Sprintf("%.0f", cfg.ConnectTimeout.Seconds())
	}
	var out [][2]string
	for _, kv := range [][2]string{
		{"host", cfg.Host}, {"port", port}, {"user", cfg.User}, {"password", cfg.Password},
		{"dbname", cfg.DBName}, {"sslmode", cfg.SSLMode}, {"sslcert", cfg.SSLCert},
		{"sslkey", cfg.SSLKey}, {"sslrootcert", cfg.SSLRootCert}, {"connect_timeout", timeout},
	} {
		if kv[1] != "" {
			out = append(out, kv)
		}
	}
	return out
}

// toolEnv is the environment for pg_dump, pg_restore and psql: ours, with
// the config's connection in the libpq variables (the password in
// PGPASSWORD, never on a command line).
func toolEnv(cfg regconfig.Database) []string {
	names := map[string]string{"host": "PGHOST", "port": "PGPORT", "user": "PGUSER", "password": "PGPASSWORD",
		"dbname": "PGDATABASE", "sslmode": "PGSSLMODE", "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY",
		"sslrootcert": "PGSSLROOTCERT", "connect_timeout": "PGCONNECT_TIMEOUT"}
	set := map[string]string{"PGCONNECT_TIMEOUT": strconv.Itoa(int(DefaultConnectTimeout.Seconds())),
		"PGAPPNAME": "regbackup"}
	for _, kv := range keywords(cfg) {
		set[names[kv[0]]] = kv[1]
	}
	var env []string
	for _, e := range os.Environ() {
		k, _, _ := strings.Cut(e, "=")
		if _, ok := set[k]; !ok {
			env = append(env, e)
		}
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	return env
}

// redact removes secret from s.
func redact(s, secret string) string {
	if len(secret) < 3 {
		return s
	}
	return strings.ReplaceAll(s, secret, "<redacted>")
}

// oneLine joins a multi-line message into one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
