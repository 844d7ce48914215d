package servers

import (
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Process is a server started by Start, stopped by t.Cleanup.
type Process struct {
	Cmd     *exec.Cmd
	LogFile string        // combined stdout and stderr
	Exited  chan struct{} // closed when the process ends
}

// Start runs bin with args and env (added to the test's environment) in its
// own process group, logging to a file in t.TempDir(). Cleanup sends SIGTERM,
// then SIGKILL after 5 s, to the whole group.
func Start(t testing.TB, env []string, bin string, args ...string) *Process {
	t.Helper()
	logFile := filepath.Join(t.TempDir(), filepath.Base(bin)+".log")
	lf, err := os.Create(logFile)
	if err != nil {
		t.Fatalf("server log: %v", err)
	}
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		lf.Close()
		t.Fatalf("start %s: %v", bin, err)
	}
	p := &Process{Cmd: cmd, LogFile: logFile, Exited: make(chan struct{})}
	go func() {
		cmd.Wait()
		lf.Close()
		close(p.Exited)
	}()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-p.Exited:
		case <-time.After(5 * time.Second):
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-p.Exited
		}
	})
	return p
}
