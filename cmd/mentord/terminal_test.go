package main

import (
	"bytes"
	"testing"
)

// The writer drops what a terminal acts on, also when a character is split
// across two writes, and keeps everything else byte for byte.
func TestCleanWriter(t *testing.T) {
	var b bytes.Buffer
	w := newCleanWriter(&b)
	in := []byte("Åse\x1b]0;x\x07 \u009b2J\u202eø\r\nend\t.\xff")
	for i := range in { // one byte at a time: every split
		if n, err := w.Write(in[i : i+1]); n != 1 || err != nil {
			t.Fatalf("Write = %d, %v", n, err)
		}
	}
	if got, want := b.String(), "Åse]0;x 2Jø\nend\t.\uFFFD"; got != want {
		t.Errorf("cleaned = %q, want %q", got, want)
	}
}
