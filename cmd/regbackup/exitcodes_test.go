package main

import (
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The README's table of exit codes is the one exitCodes makes.
func TestExitCodesREADMETable(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if want := exitCodesMarkdown(); !strings.Contains(string(b), "## Exit codes\n\n"+want) {
		t.Errorf("README.md's table of exit codes differs from exitCodes (cmd/regbackup/exitcodes.go); it should read:\n\n%s", want)
	}
}

// Every exit code README.md and docs/operations.md mention ("exit 3",
// "exits 3", "exit code 0") is one of exitCodes.
func TestExitCodesMentionedExist(t *testing.T) {
	known := map[int]bool{}
	for _, e := range exitCodes {
		known[e.Code] = true
	}
	mention := regexp.MustCompile(`(?i)\bexit(?:s| code)? (\d+)\b`)
	for _, f := range []string{"../../README.md", "../../docs/operations.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range mention.FindAllStringSubmatch(string(b), -1) {
			code, _ := strconv.Atoi(m[1])
			n++
			if !known[code] {
				t.Errorf("%s mentions %q, which is not an exit code of exitCodes", f, m[0])
			}
		}
		if n == 0 {
			t.Errorf("%s mentions no exit code: is the pattern still right?", f)
		}
	}
}

// The table holds every exit code once, in order, with a status, a name
// and a meaning; statusOf, --help and the metrics' HELP line use its words.
func TestExitCodesTable(t *testing.T) {
	want := []int{exitOK, exitError, exitUsage, exitIntegrity, exitLocked, exitParent, exitKey, exitInterrupted}
	var got []int
	statuses := map[string]bool{}
	for _, e := range exitCodes {
		got = append(got, e.Code)
		if e.Status == "" || e.Name == "" || e.Meaning == "" {
			t.Errorf("exit code %d: status %q, name %q, meaning %q: none may be empty", e.Code, e.Status, e.Name, e.Meaning)
		}
		if statuses[e.Status] {
			t.Errorf("status %q used twice", e.Status)
		}
		statuses[e.Status] = true
		if s := statusOf(e.Code); s != e.Status {
			t.Errorf("statusOf(%d) = %q, want %q", e.Code, s, e.Status)
		}
	}
	if !sort.IntsAreSorted(got) || len(got) != len(want) {
		t.Errorf("exit codes %v, want %v in order", got, want)
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Errorf("exit codes %v, want %v", got, want)
			break
		}
	}
	if s := statusOf(99); s != "error" {
		t.Errorf("statusOf(99) = %q, want error", s)
	}
	if help := newApp().Description; !strings.Contains(help, exitCodesHelp(90)) {
		t.Errorf("--help does not hold the exit codes paragraph:\n%s", help)
	}
	var help string
	for _, m := range outcomeMetrics(&outcome{}, time.Time{}) {
		if m.name == "regbackup_exit_code" {
			help = m.help
		}
	}
	for _, e := range exitCodes {
		if !strings.Contains(help, strconv.Itoa(e.Code)+" "+e.Name) {
			t.Errorf("the metrics' HELP line %q does not say %d %s", help, e.Code, e.Name)
		}
	}
}
