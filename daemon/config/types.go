package config

import (
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// TLSMode is how a mail connection is protected.
type TLSMode string

// The TLS modes. None is accepted only for a loopback host.
const (
	TLSImplicit TLSMode = "implicit"
	TLSStartTLS TLSMode = "starttls"
	TLSNone     TLSMode = "none"
)

// UnmarshalYAML accepts the three modes, case-insensitively.
func (m *TLSMode) UnmarshalYAML(n *yaml.Node) error {
	v := TLSMode(strings.ToLower(strings.TrimSpace(n.Value)))
	switch v {
	case TLSImplicit, TLSStartTLS, TLSNone, "":
		*m = v
		return nil
	}
	return typeError(n, "tls must be implicit, starttls or none, not %q", n.Value)
}

// Duration is a time.Duration that also understands days ("3d", "1d12h").
type Duration time.Duration

// D returns the duration as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) String() string {
	td := time.Duration(d)
	if td != 0 && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	return td.String()
}

// ParseDuration parses a Go duration, allowing a leading whole number of days.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	var days time.Duration
	if i := strings.IndexByte(s, 'd'); i > 0 {
		n, err := strconv.Atoi(s[:i])
		if err != nil || n < 0 || n > 3650 {
			return 0, fmt.Errorf("invalid duration %q", s)
		}
		days, s = time.Duration(n)*24*time.Hour, s[i+1:]
		if s == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("invalid duration %q (use for example 90s, 2h, 3d)", s)
	}
	return days + d, nil
}

// UnmarshalYAML parses strings like "30s", "2h", "3d".
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return typeError(n, "%v", err)
	}
	*d = Duration(v)
	return nil
}

// ByteSize is a size in bytes, written as 1048576, "512KiB", "10MiB" or "10MB".
type ByteSize int64

// UnmarshalYAML parses a byte count with an optional unit.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	s := strings.TrimSpace(n.Value)
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"KB", 1000}, {"MB", 1000 * 1000}, {"GB", 1000 * 1000 * 1000}, {"B", 1}}
	mult := int64(1)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			s, mult = strings.TrimSpace(strings.TrimSuffix(s, u.suffix)), u.mult
			break
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 || v > (1<<40)/mult {
		return typeError(n, "invalid size %q (use for example 10MiB)", n.Value)
	}
	*b = ByteSize(v * mult)
	return nil
}

// ClockTime is a time of day, "HH:MM", as minutes after midnight. Set tells an
// empty value from midnight.
type ClockTime struct {
	Minutes int
	Set     bool
}

// ParseClock parses "HH:MM" (24-hour clock).
func ParseClock(s string) (ClockTime, error) {
	t, err := time.Parse("15:04", strings.TrimSpace(s))
	if err != nil {
		return ClockTime{}, fmt.Errorf("invalid time of day %q (use HH:MM, 24-hour)", s)
	}
	return ClockTime{Minutes: t.Hour()*60 + t.Minute(), Set: true}, nil
}

// UnmarshalYAML parses "HH:MM".
func (c *ClockTime) UnmarshalYAML(n *yaml.Node) error {
	if strings.TrimSpace(n.Value) == "" {
		*c = ClockTime{}
		return nil
	}
	v, err := ParseClock(n.Value)
	if err != nil {
		return typeError(n, "%v", err)
	}
	*c = v
	return nil
}

func (c ClockTime) String() string {
	if !c.Set {
		return ""
	}
	return fmt.Sprintf("%02d:%02d", c.Minutes/60, c.Minutes%60)
}

// Secret holds a password. It prints, logs and marshals as "<secret>" so that
// it cannot leak into a log line or an error message by accident.
type Secret struct{ value string }

// NewSecret wraps s.
func NewSecret(s string) Secret { return Secret{value: s} }

// Reveal returns the secret itself, for the one place that needs it.
func (s Secret) Reveal() string { return s.value }

// IsSet reports whether there is a secret.
func (s Secret) IsSet() bool { return s.value != "" }

func (s Secret) String() string   { return "<secret>" }
func (s Secret) GoString() string { return "<secret>" }

// LogValue keeps slog from printing the value.
func (s Secret) LogValue() slog.Value { return slog.StringValue("<secret>") }

// MarshalText keeps encoders (JSON, YAML, text) from printing the value.
func (s Secret) MarshalText() ([]byte, error) { return []byte("<secret>"), nil }

// Format keeps every fmt verb from printing the value, %#v and %+v included.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("<secret>")) }

func typeError(n *yaml.Node, format string, args ...any) error {
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s", n.Line, fmt.Sprintf(format, args...))}}
}
