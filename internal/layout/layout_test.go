// Package layout holds the test that keeps mentord's architecture as README's
// "Code layout" table draws it: dependencies point one way, down the table.
package layout

import (
	"bufio"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/mentord/mentord/"

// order reads the packages from README's "Code layout" table, top to bottom.
func order(t *testing.T) []string {
	t.Helper()
	f, err := os.Open("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pkgs []string
	in := false
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "### Code layout"):
			in = true
		case in && strings.HasPrefix(line, "| `"):
			pkgs = append(pkgs, strings.Split(line, "`")[1])
		case in && strings.HasPrefix(line, "#"):
			in = false
		}
	}
	if len(pkgs) == 0 {
		t.Fatal("README.md has no Code layout table")
	}
	return pkgs
}

// Every package is in the table, and imports only packages below it (tests
// included, but for the e2e suite, which may use anything).
func TestDependenciesPointDown(t *testing.T) {
	rank := map[string]int{}
	for i, p := range order(t) {
		rank[p] = i
	}
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}} {{join .TestImports " "}}`, module+"...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		path, imports, _ := strings.Cut(line, ":")
		p := strings.TrimPrefix(path, module)
		if p == "internal/layout" {
			continue
		}
		r, ok := rank[p]
		if !ok {
			t.Errorf("%s is not in README's Code layout table: add a line for it", p)
			continue
		}
		for _, imp := range strings.Fields(imports) {
			q, ours := strings.CutPrefix(imp, module)
			if !ours || q == p {
				continue
			}
			if rank[q] <= r {
				t.Errorf("%s imports %s, which stands above it in the Code layout table", p, q)
			}
		}
	}
}
