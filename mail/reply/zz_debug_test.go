package reply

import (
	"fmt"
	"os"
	"testing"
)

func TestZZDebug(t *testing.T) {
	name := os.Getenv("CASE")
	if name == "" {
		t.Skip()
	}
	raw, _ := os.ReadFile(name)
	fs, body, _ := splitHeader(raw)
	tr := walkMessage(fs, body)
	if os.Getenv("HTML") != "" {
		fmt.Println(tr.renderHTML())
	} else {
		fmt.Println(tr.plain)
	}
	ls := splitLines(nfc(tr.bodyText(os.Getenv("HTML") != "")))
	markStructure(ls)
	inferQuestions(ls)
	applySoft(ls)
	for _, l := range ls {
		fmt.Printf("%d d%d q%d s%v p%v | %s\n", l.role, l.depth, l.q, l.soft, l.prompt, l.text)
	}
}
