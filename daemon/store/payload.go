package store

import (
	"bytes"
	"compress/flate"
	_ "embed"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// A queued message's bytes are kept compactly (outbox_payloads.data, and a
// prompt's sent text): DEFLATE (RFC 1951) with a preset dictionary of
// mentord's own messages, after unwrapping the base64 parts (the iCalendar
// object, twice in an invite), which DEFLATE cannot match as base64. An
// invite of 6 KB takes about 0.5 KB. The stored forms:
//
//	anything not starting with NUL   the bytes as they are (rows older than schema 6)
//	"\x00M1" + DEFLATE(dict1, data)  compressed
//	"\x00M2" + DEFLATE(dict1, u)     compressed, u being data with its base64 runs unwrapped
//
// payload1.dict must never change: the stored rows need it to be read. A
// better dictionary gets its own file and format numbers.

//go:embed payload1.dict
var payloadDict1 []byte

const (
	packedPlain    = "\x00M1"
	packedUnwrap   = "\x00M2"
	packedHdrBytes = 3
	b64Line        = 76 // the line length of base64 bodies (RFC 2045 section 6.8)
)

// Writers and readers with the dictionary loaded are kept for the next
// message: making one costs a megabyte and half a millisecond, and a
// sync.Pool would drop them at every garbage collection.
var (
	deflaters = make(chan *flate.Writer, 4)
	inflaters = make(chan io.ReadCloser, 4)
)

func getDeflater() *flate.Writer {
	select {
	case w := <-deflaters:
		return w
	default:
		w, err := flate.NewWriterDict(io.Discard, flate.DefaultCompression, payloadDict1)
		if err != nil {
			panic(err) // only for a bad level
		}
		return w
	}
}

func putDeflater(w *flate.Writer) {
	select {
	case deflaters <- w:
	default:
	}
}

func getInflater() io.ReadCloser {
	select {
	case r := <-inflaters:
		return r
	default:
		return flate.NewReaderDict(bytes.NewReader(nil), payloadDict1)
	}
}

func putInflater(r io.ReadCloser) {
	select {
	case inflaters <- r:
	default:
	}
}

// Pack returns data in its compact stored form.
func Pack(data []byte) []byte {
	format, body := packedPlain, data
	if u, ok := unwrapBase64(data); ok {
		format, body = packedUnwrap, u
	}
	var buf bytes.Buffer
	buf.Grow(len(body)/4 + 64)
	buf.WriteString(format)
	w := getDeflater()
	defer putDeflater(w)
	w.Reset(&buf)
	_, _ = w.Write(body) // writes to a bytes.Buffer do not fail
	_ = w.Close()
	return buf.Bytes()
}

// ErrDamagedPayload means stored bytes could not be unpacked.
var ErrDamagedPayload = errors.New("stored message bytes are damaged")

// Unpack returns the bytes Pack was given (or the bytes themselves, stored
// before packing existed).
func Unpack(stored []byte) ([]byte, error) {
	if len(stored) == 0 || stored[0] != 0 {
		return stored, nil
	}
	if len(stored) < packedHdrBytes {
		return nil, ErrDamagedPayload
	}
	form := string(stored[:packedHdrBytes])
	if form != packedPlain && form != packedUnwrap {
		return nil, fmt.Errorf("%w: unknown form %q", ErrDamagedPayload, form)
	}
	r := getInflater()
	defer putInflater(r)
	if err := r.(flate.Resetter).Reset(bytes.NewReader(stored[packedHdrBytes:]), payloadDict1); err != nil {
		return nil, err
	}
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDamagedPayload, err)
	}
	if form == packedUnwrap {
		return wrapBase64(body)
	}
	return body, nil
}

// unwrapBase64 replaces each run of base64 lines (CRLF-separated, 76
// characters but the last) with NUL, its decoded length (4 bytes, big
// endian) and the decoded bytes, where encoding those again gives the run
// back exactly. It reports false when data holds a NUL already, has no such
// run, or would not come back the same.
func unwrapBase64(data []byte) ([]byte, bool) {
	if bytes.IndexByte(data, 0) >= 0 {
		return nil, false
	}
	var out bytes.Buffer
	out.Grow(len(data))
	found := false
	for rest := data; len(rest) > 0; {
		n := base64Run(rest)
		if n == 0 {
			line, tail, ok := bytes.Cut(rest, []byte("\r\n"))
			out.Write(line)
			if ok {
				out.WriteString("\r\n")
			}
			rest = tail
			continue
		}
		run := rest[:n]
		decoded, err := base64.StdEncoding.DecodeString(string(bytes.ReplaceAll(run, []byte("\r\n"), nil)))
		if err != nil || !bytes.Equal(encodeBase64Lines(decoded), run) {
			out.Write(run)
		} else {
			var size [4]byte
			binary.BigEndian.PutUint32(size[:], uint32(len(decoded)))
			out.WriteByte(0)
			out.Write(size[:])
			out.Write(decoded)
			found = true
		}
		rest = rest[n:]
	}
	if !found {
		return nil, false
	}
	u := out.Bytes()
	if back, err := wrapBase64(u); err != nil || !bytes.Equal(back, data) {
		return nil, false
	}
	return u, true
}

// base64Run returns the length of the run of base64 lines at the start of
// b (its last line without the CRLF after it), 0 when there is none: at
// least two lines, every one but the last exactly 76 characters.
func base64Run(b []byte) int {
	n := 0
	lines := 0
	for {
		line, _, ok := bytes.Cut(b[n:], []byte("\r\n"))
		if !ok || len(line) == 0 || len(line) > b64Line || !isBase64(line) {
			break
		}
		lines++
		if len(line) < b64Line {
			n += len(line)
			break
		}
		n += len(line) + 2
	}
	if lines < 2 {
		return 0
	}
	if n > 0 && bytes.HasSuffix(b[:n], []byte("\r\n")) {
		n -= 2
	}
	return n
}

func isBase64(line []byte) bool {
	for i, c := range line {
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9', c == '+', c == '/':
		case c == '=' && i >= len(line)-2:
		default:
			return false
		}
	}
	return true
}

// encodeBase64Lines is base64 in lines of 76 characters joined by CRLF.
func encodeBase64Lines(b []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(b)
	var out bytes.Buffer
	for len(enc) > b64Line {
		out.WriteString(enc[:b64Line])
		out.WriteString("\r\n")
		enc = enc[b64Line:]
	}
	out.WriteString(enc)
	return out.Bytes()
}

// wrapBase64 undoes unwrapBase64.
func wrapBase64(u []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(u) + len(u)/3)
	for len(u) > 0 {
		i := bytes.IndexByte(u, 0)
		if i < 0 {
			out.Write(u)
			break
		}
		out.Write(u[:i])
		if len(u) < i+5 {
			return nil, ErrDamagedPayload
		}
		size := int(binary.BigEndian.Uint32(u[i+1 : i+5]))
		if len(u) < i+5+size {
			return nil, ErrDamagedPayload
		}
		out.Write(encodeBase64Lines(u[i+5 : i+5+size]))
		u = u[i+5+size:]
	}
	return out.Bytes(), nil
}
