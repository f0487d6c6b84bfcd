package reply

// proseDrafts ties unnumbered paragraphs to questions.
func proseDrafts(segs []segment, qs questions) []draft { return nil }
