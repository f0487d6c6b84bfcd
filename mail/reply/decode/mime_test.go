package decode

import (
	"bytes"
	"testing"
)

func TestSplitMultipart(t *testing.T) {
	body := []byte("preamble\r\n--b\r\nA\r\n--bx\r\nnot a delimiter\r\n--b \r\nB\r\n--b--\r\nepilogue")
	got := splitMultipart(body, "b")
	if len(got) != 2 || !bytes.Equal(got[0], []byte("A\r\n--bx\r\nnot a delimiter")) || !bytes.Equal(got[1], []byte("B")) {
		t.Errorf("splitMultipart = %q", got)
	}
}
