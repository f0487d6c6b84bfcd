package config

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/mentord/mentord/internal/smallfile"
)

// Error is one problem in the configuration, located by file, line and key path.
type Error struct {
	File string
	Line int
	Path string
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		b.WriteString(":" + strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errors is every problem found in one file, in line order.
type Errors []*Error

func (es Errors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "\n")
}

// MaxFileSize bounds the configuration file; anything larger is a mistake.
const MaxFileSize = 1 << 20

// Load reads, parses and validates the file at path and reads its secrets.
func Load(path string) (*Config, error) { return LoadWith(path, Options{}) }

// Options change where Load looks for what systemd hands the service, for the
// admin's commands, which run beside the service without systemd's variables.
type Options struct {
	// NoSecrets reads no secret (passwords, OAuth keys) and no CA bundle: for
	// the commands that never talk to a mail server.
	NoSecrets bool
	// StateDir is where a relative database.path lives when $STATE_DIRECTORY
	// is not set: the unit's StateDirectory=.
	StateDir string
	// CredentialsDir is where *_credential secrets are read from when
	// $CREDENTIALS_DIRECTORY is not set: the directory of the files the unit's
	// LoadCredential= names (readable by root only).
	CredentialsDir string
}

// LoadWith is Load with the fallbacks and choices of o.
func LoadWith(path string, o Options) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := parse(path, data, o)
	if err != nil {
		return nil, err
	}
	if o.NoSecrets {
		return cfg, nil
	}
	if err := cfg.loadSecrets(); err != nil {
		return nil, err
	}
	return cfg, nil
}

func readFile(path string) ([]byte, error) {
	data, st, err := smallfile.Read(path, MaxFileSize)
	switch {
	case errors.Is(err, smallfile.ErrNotRegular), errors.Is(err, smallfile.ErrTooLarge):
		return nil, fmt.Errorf("read config %s: not a configuration file (%w; at most 1 MiB)", path, err)
	case err != nil:
		return nil, fmt.Errorf("read config: %w (give another file with --config or $MENTORD_CONFIG)", err)
	}
	// It holds no secret, so others may read it (the service's dynamic user
	// must), but whoever can write it can send the programme's mail through
	// their own server.
	if st.Mode().Perm()&0o002 != 0 {
		return nil, fmt.Errorf("read config %s: every user may change it (mode %04o); chmod 0644 or 0640 it", path, st.Mode().Perm())
	}
	return data, nil
}

// Parse parses and validates a configuration read from file. It reads no
// secrets; every error found is returned at once as Errors.
func Parse(file string, data []byte) (*Config, error) { return parse(file, data, Options{}) }

func parse(file string, data []byte, o Options) (*Config, error) {
	p := &parser{file: file, lines: map[string]int{}}
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, Errors{p.syntaxError(err)}
	}
	cfg := &Config{File: file, lines: p.lines, opts: o}
	if len(root.Content) == 0 {
		return nil, Errors{{File: file, Msg: "the file is empty; start from config.example.yaml"}}
	}
	doc := root.Content[0]
	if doc.Kind != yaml.MappingNode {
		return nil, Errors{{File: file, Line: doc.Line, Msg: "the top level must be a mapping of sections (programme:, mailbox:, ...)"}}
	}
	p.walk(doc, reflect.TypeOf(*cfg), "")
	if err := doc.Decode(cfg); err != nil {
		p.decodeError(err)
	}
	if len(p.errs) == 0 {
		cfg.applyDefaults()
		p.errs = append(p.errs, cfg.validate()...)
	}
	if len(p.errs) > 0 {
		sort.SliceStable(p.errs, func(i, j int) bool { return p.errs[i].Line < p.errs[j].Line })
		return nil, p.errs
	}
	return cfg, nil
}

type parser struct {
	file  string
	lines map[string]int
	errs  Errors
}

var lineRE = regexp.MustCompile(`^(?:yaml: )?line (\d+): (.*)$`)

func (p *parser) syntaxError(err error) *Error {
	if m := lineRE.FindStringSubmatch(err.Error()); m != nil {
		n, _ := strconv.Atoi(m[1])
		return &Error{File: p.file, Line: n, Msg: "YAML syntax: " + m[2]}
	}
	return &Error{File: p.file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
}

// decodeError turns yaml's type errors ("line 7: cannot unmarshal ...") into
// Errors that also name the key path at that line.
func (p *parser) decodeError(err error) {
	var te *yaml.TypeError
	if !errors.As(err, &te) {
		p.errs = append(p.errs, &Error{File: p.file, Msg: err.Error()})
		return
	}
	byLine := map[int]string{}
	for path, line := range p.lines {
		if cur, ok := byLine[line]; !ok || len(path) > len(cur) {
			byLine[line] = path
		}
	}
	for _, msg := range te.Errors {
		e := &Error{File: p.file, Msg: msg}
		if m := lineRE.FindStringSubmatch(msg); m != nil {
			e.Line, _ = strconv.Atoi(m[1])
			e.Path, e.Msg = byLine[e.Line], m[2]
		}
		p.errs = append(p.errs, e)
	}
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// walk records the line of every key and reports keys the schema does not know.
func (p *parser) walk(n *yaml.Node, t reflect.Type, path string) {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if t.Kind() != reflect.Struct || reflect.PointerTo(t).Implements(unmarshalerType) {
		return
	}
	if n.Kind != yaml.MappingNode {
		if n.Tag != "!!null" {
			p.errs = append(p.errs, &Error{File: p.file, Line: n.Line, Path: path, Msg: "must be a section of keys"})
		}
		return
	}
	fields := yamlFields(t)
	for i := 0; i+1 < len(n.Content); i += 2 {
		key, val := n.Content[i], n.Content[i+1]
		kp := key.Value
		if path != "" {
			kp = path + "." + key.Value
		}
		p.lines[kp] = key.Line
		ft, ok := fields[key.Value]
		if !ok {
			p.errs = append(p.errs, &Error{File: p.file, Line: key.Line, Path: kp, Msg: "unknown key" + suggest(key.Value, fields)})
			continue
		}
		p.walk(val, ft, kp)
	}
}

// yamlFields maps each YAML key of struct t to its type, following inline fields.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		if tag == "-" || !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if opts == "inline" {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

// suggest names the closest known key, for a misspelling.
func suggest(key string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for k := range fields {
		if d := distance(strings.ToLower(key), k); d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	if best == "" {
		known := make([]string, 0, len(fields))
		for k := range fields {
			known = append(known, k)
		}
		sort.Strings(known)
		return " (known keys here: " + strings.Join(known, ", ") + ")"
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// distance is the Levenshtein edit distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
