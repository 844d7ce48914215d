package integration

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestCompletion: the bash script, sourced in a real bash, completes
// subcommands and a subcommand's flags from regbackup itself; zsh's and
// fish's scripts parse in their shells when those are installed, and name
// the commands otherwise.
func TestCompletion(t *testing.T) {
	bin := regbackupBinary(t)
	dir := t.TempDir()
	if err := os.Symlink(bin, filepath.Join(dir, "regbackup")); err != nil {
		t.Fatal(err)
	}
	script, _, code := Regbackup(t, "completion", "bash")
	if code != 0 {
		t.Fatalf("completion bash: exit %d", code)
	}
	complete := func(words ...string) []string {
		t.Helper()
		sh := script + "\nCOMP_WORDS=(" + strings.Join(words, " ") + "); COMP_CWORD=" +
			string(rune('0'+len(words)-1)) + "; _regbackup_complete; printf '%s\\n' \"${COMPREPLY[@]}\"\n"
		cmd := exec.Command("bash", "-c", sh)
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("bash: %v\n%s", err, out)
		}
		return strings.Fields(string(out))
	}
	if got := complete("regbackup", "re"); !slices.Equal(got, []string{"restore"}) {
		t.Errorf("regbackup re<TAB> = %v, want [restore]", got)
	}
	if got := complete("regbackup", "backup", "--incr"); !slices.Contains(got, "--incremental") || !slices.Contains(got, "--incremental-from") {
		t.Errorf("regbackup backup --incr<TAB> = %v, want --incremental and --incremental-from", got)
	}
	for _, shell := range []string{"zsh", "fish"} {
		s, _, code := Regbackup(t, "completion", shell)
		if code != 0 || !strings.Contains(s, "regbackup") || !strings.Contains(s, "complete") && !strings.Contains(s, "compdef") {
			t.Errorf("completion %s: exit %d\n%s", shell, code, s)
		}
		if _, err := exec.LookPath(shell); err != nil {
			continue // parsed only where the shell is installed
		}
		f := filepath.Join(dir, "completion."+shell)
		os.WriteFile(f, []byte(s), 0o644)
		if out, err := exec.Command(shell, "-n", f).CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", shell, err, out)
		}
	}
	if _, errOut, code := Regbackup(t, "completion", "tcsh"); code != 2 || !strings.Contains(errOut, "bash, zsh or fish") {
		t.Errorf("completion tcsh: exit %d, want 2\n%s", code, errOut)
	}
	if fish, _, _ := Regbackup(t, "completion", "fish"); !strings.Contains(fish, "restore") || strings.Contains(fish, " man ") {
		t.Errorf("fish completion lacks restore or offers the hidden man command")
	}
}
