package main

import (
	"flag"
	"os/exec"
	"strconv"
	"strings"
	"testing"
)

// The man page names every command help lists, with each of its flags.
func TestManPageHasEveryCommand(t *testing.T) {
	h := newHarness(t)
	man := h.mustRun("man")
	for _, c := range visible() {
		title := ".SS \"" + roff(strings.TrimSpace("mentord "+c.name+" "+c.args)) + "\""
		if !strings.Contains(man, title) {
			t.Errorf("the man page lacks %s", title)
			continue
		}
		section := man[strings.Index(man, title):]
		if i := strings.Index(section[1:], ".SS "); i >= 0 {
			section = section[:i+1]
		}
		flagsOf(c).VisitAll(func(f *flag.Flag) {
			if !strings.Contains(section, ".B \\-\\-"+roff(f.Name)) {
				t.Errorf("the man page's %q lacks --%s", c.name, f.Name)
			}
		})
	}
	if _, out, _ := h.run("help"); strings.Contains(out, "completion") || strings.Contains(out, "  man ") {
		t.Errorf("help lists the build's hidden commands:\n%s", out)
	}
}

// complete runs the bash completion for the words typed so far (the last one
// being completed) and returns what it offers.
func complete(t *testing.T, script string, words ...string) []string {
	t.Helper()
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = "'" + w + "'"
	}
	prog := script + "\nCOMP_WORDS=(mentord " + strings.Join(quoted, " ") + ")\nCOMP_CWORD=" +
		strconv.Itoa(len(words)) + "\n_mentord\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n"
	out, err := exec.Command("bash", "--norc", "-c", prog).CombinedOutput()
	if err != nil {
		t.Fatalf("bash: %v\n%s", err, out)
	}
	return strings.Fields(string(out))
}

// The bash completion offers every command and, after one, its flags.
func TestBashCompletion(t *testing.T) {
	h := newHarness(t)
	script := h.mustRun("completion", "bash")
	has := func(got []string, want string) bool {
		for _, g := range got {
			if g == want {
				return true
			}
		}
		return false
	}
	for _, c := range visible() {
		words := strings.Fields(c.name)
		prefix := append(words[:len(words)-1:len(words)-1], "")
		if got := complete(t, script, prefix...); !has(got, words[len(words)-1]) {
			t.Errorf("after %q: offered %v, want %s among them", prefix, got, words[len(words)-1])
		}
		want := []string{"--help"}
		flagsOf(c).VisitAll(func(f *flag.Flag) { want = append(want, "--"+f.Name) })
		got := complete(t, script, append(words, "--")...)
		for _, w := range want {
			if !has(got, w) {
				t.Errorf("after %q: offered %v, want %s among them", c.name, got, w)
			}
		}
	}
	if got := complete(t, script, "pa"); len(got) != 1 || got[0] != "pair" {
		t.Errorf("mentord pa<TAB> = %v, want [pair]", got)
	}
}
