// Command regbackup backs up, verifies, lists and restores the storage of
// Docker Distribution registries. See README.md for the archive format and
// exit codes.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	_ "github.com/regbackup/regbackup/drivers/azure"
	_ "github.com/regbackup/regbackup/drivers/filesystem"
	_ "github.com/regbackup/regbackup/drivers/gcs"
	_ "github.com/regbackup/regbackup/drivers/inmemory"
	_ "github.com/regbackup/regbackup/drivers/s3"
	_ "github.com/regbackup/regbackup/drivers/swift"
	"github.com/regbackup/regbackup/internal/memlimit"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	memlimit.Set() // for the whole run; os.Exit ends it
	if path := os.Getenv("REGBACKUP_CPUPROFILE"); path != "" {
		startCPUProfile(path)
	}
	if path := os.Getenv("REGBACKUP_MEMPROFILE"); path != "" {
		startHeapProfile(path)
	}
	app := newApp()
	err := app.RunContext(ctx, interspersed(app, os.Args))
	code := exitCode(ctx, err)
	if err != nil {
		fmt.Fprintf(os.Stderr, "regbackup: %s\n", message(ctx, err))
	}
	stop()
	exit(code)
}

func newApp() *cli.App {
	app := &cli.App{
		Name:    "regbackup",
		Usage:   "back up, verify and restore Docker Distribution registry storage",
		Version: version,
		Description: `regbackup reads a registry's storage directly (the docker/registry/v2 layout, on a disk,
S3, GCS, Azure, Swift or OSS, and GitLab's metadata database) and writes a verified, compressed tar archive of it together with the
registry's key material, or copies it straight to another backend (copy).
Restores go into the existing folder or bucket without replacing it, blobs first and tags last.

` + exitCodesHelp(90),
		Commands: []*cli.Command{backupCommand(), verifyCommand(), listCommand(), restoreCommand(), copyCommand(), checkCommand(),
			pruneCommand(), completionCommand(), manCommand()},
		EnableBashCompletion: true,
		OnUsageError: func(_ *cli.Context, err error, _ bool) error {
			return usageError{err}
		},
		ExitErrHandler: func(*cli.Context, error) {}, // exit codes are decided in main
	}
	// A command's own flag errors ("flag needs an argument") are usage
	// errors too: one line and exit 2, not the whole --help and exit 1.
	for _, c := range app.Commands {
		c.OnUsageError = app.OnUsageError
	}
	return app
}
