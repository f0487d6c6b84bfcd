package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const minimal = `programme:
  name: Test Programme
mailbox:
  address: mentoring@example.org
devserver:
  enabled: true
`

func writeConfig(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "config.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := Load("../../config.example.yaml")
	if err != nil {
		t.Fatalf("Load(config.example.yaml) = %v", err)
	}
	if !cfg.DevServer.Enabled || cfg.SMTP.Host != "127.0.0.1" || cfg.IMAP.Port != 1143 {
		t.Errorf("example does not point at the dev server: %+v %+v", cfg.SMTP, cfg.IMAP)
	}
	if cfg.Timings.ChecklistLead.D() != 72*time.Hour || cfg.Timings.ChecklistTime.String() != "09:00" {
		t.Errorf("timings = %+v", cfg.Timings)
	}
	if !filepath.IsAbs(cfg.Database.Path) {
		t.Errorf("database path %q not resolved", cfg.Database.Path)
	}
}

// Every key of the schema appears in the example, so the example documents everything.
func TestExampleConfigShowsEveryKey(t *testing.T) {
	cfg, err := Load("../../config.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range allKeys(reflect.TypeOf(Config{}), "") {
		if cfg.Line(path) == 0 {
			t.Errorf("config.example.yaml lacks %s", path)
		}
	}
}

func TestDefaultsWithoutDevServer(t *testing.T) {
	p := writeConfig(t, `programme: {name: P}
mailbox: {address: m@example.org}
smtp: {host: smtp.example.org, username: m, password_file: pw}
imap: {host: imap.example.org, tls: implicit, password_file: pw}
`)
	if err := os.WriteFile(filepath.Join(filepath.Dir(p), "pw"), []byte("hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p)
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if cfg.SMTP.Port != 587 || cfg.SMTP.TLS != TLSStartTLS || cfg.SMTP.Auth != "plain" {
		t.Errorf("smtp defaults = %+v", cfg.SMTP)
	}
	if cfg.IMAP.Port != 993 || cfg.IMAP.Username != "m@example.org" || cfg.IMAP.Folders.Processed != "Processed" {
		t.Errorf("imap defaults = %+v", cfg.IMAP)
	}
	if cfg.SMTP.Password.Reveal() != "hunter2" {
		t.Errorf("password not read (trailing newline must go)")
	}
}

func TestMisspeltKeyNamesLineAndPath(t *testing.T) {
	p := writeConfig(t, minimal+"smtp:\n  hots: mail.example.org\n")
	_, err := Load(p)
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 1 {
		t.Fatalf("Load = %v, want one error", err)
	}
	e := errs[0]
	if e.Line != 8 || e.Path != "smtp.hots" || !strings.Contains(e.Msg, `did you mean "host"`) {
		t.Errorf("error = %q", e.Error())
	}
	if !strings.HasPrefix(e.Error(), p+":8: smtp.hots: unknown key") {
		t.Errorf("Error() = %q", e.Error())
	}
}

func TestAllErrorsAtOnce(t *testing.T) {
	p := writeConfig(t, `programme:
  name: ""
mailbox:
  address: "not an address"
  plus_delimiter: "#"
smtp:
  host: smtp.example.org
  port: seventy
  tls: sometimes
  colour: blue
imap:
  host: imap.example.org
  tls: none
timings:
  checklist_lead: 3 days
defaults:
  timezone: Mars/Olympus
log:
  level: loud
`)
	_, err := Load(p)
	var errs Errors
	if !errors.As(err, &errs) {
		t.Fatalf("Load = %v", err)
	}
	// Decoding errors (type, unknown key) come first; semantic checks need a decoded file.
	want := map[string]int{"smtp.port": 8, "smtp.tls": 9, "smtp.colour": 10, "timings.checklist_lead": 15}
	got := map[string]int{}
	for _, e := range errs {
		got[e.Path] = e.Line
	}
	for path, line := range want {
		if got[path] != line {
			t.Errorf("no error for %s at line %d; got:\n%v", path, line, err)
		}
	}

	// With the decoding errors fixed, the semantic ones all show at once.
	p = writeConfig(t, `programme:
  name: ""
mailbox:
  address: "not an address"
  plus_delimiter: "#"
smtp:
  host: smtp.example.org
imap:
  host: imap.example.org
  tls: none
defaults:
  timezone: Mars/Olympus
log:
  level: loud
`)
	_, err = Load(p)
	errs = nil
	if !errors.As(err, &errs) {
		t.Fatalf("Load = %v", err)
	}
	got = map[string]int{}
	for _, e := range errs {
		got[e.Path] = e.Line
	}
	want = map[string]int{"programme.name": 2, "mailbox.address": 4, "mailbox.plus_delimiter": 5,
		"imap.tls": 10, "imap.password_file": 8, "defaults.timezone": 12, "log.level": 14}
	for path, line := range want {
		if got[path] != line {
			t.Errorf("no error for %s at line %d; got:\n%v", path, line, err)
		}
	}
}

func TestSyntaxError(t *testing.T) {
	p := writeConfig(t, "programme:\n  name: [unclosed\n")
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), p+":") || !strings.Contains(err.Error(), "YAML syntax") {
		t.Errorf("Load = %v", err)
	}
}

func TestPlainTextOnlyOnLoopback(t *testing.T) {
	for host, ok := range map[string]bool{"127.0.0.1": true, "::1": true, "localhost": true, "mail.example.org": false, "10.0.0.1": false} {
		_, err := Parse("c.yaml", []byte(minimal+fmt.Sprintf("smtp: {host: %q, tls: none}\n", host)))
		if (err == nil) != ok {
			t.Errorf("smtp host %s with tls none: err = %v, want ok=%v", host, err, ok)
		}
	}
}

func TestDevServerMustBeLoopback(t *testing.T) {
	_, err := Parse("c.yaml", []byte(minimal+"  smtp_listen: 0.0.0.0:2525\n"))
	if err == nil || !strings.Contains(err.Error(), "devserver.smtp_listen") {
		t.Errorf("Parse = %v", err)
	}
}

func TestCredentialsDirectory(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "smtp-pass"), []byte("s3cret-cred"), 0o400); err != nil {
		t.Fatal(err)
	}
	body := minimal + "smtp: {host: 127.0.0.1, port: 2525, tls: none, auth: plain, username: u, password_credential: smtp-pass}\n"
	p := writeConfig(t, body)

	t.Setenv("CREDENTIALS_DIRECTORY", "")
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "CREDENTIALS_DIRECTORY") {
		t.Errorf("Load without $CREDENTIALS_DIRECTORY = %v", err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", dir)
	cfg, err := Load(p)
	if err != nil {
		t.Fatalf("Load = %v", err)
	}
	if cfg.SMTP.Password.Reveal() != "s3cret-cred" {
		t.Errorf("credential not read")
	}
}

func TestSecretFileMustNotBeWorldReadable(t *testing.T) {
	p := writeConfig(t, minimal+"smtp: {host: 127.0.0.1, port: 2525, tls: none, username: u, password_file: pw}\n")
	pw := filepath.Join(filepath.Dir(p), "pw")
	if err := os.WriteFile(pw, []byte("topsecretvalue"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := Load(p)
	if err == nil || !strings.Contains(err.Error(), "readable by other users") {
		t.Fatalf("Load = %v", err)
	}
	if strings.Contains(err.Error(), "topsecretvalue") {
		t.Errorf("error shows the secret: %v", err)
	}
}

// No way of printing or logging a loaded configuration shows a password.
func TestSecretsNeverPrinted(t *testing.T) {
	const pw = "correct-horse-battery-staple"
	p := writeConfig(t, minimal+"smtp: {host: 127.0.0.1, port: 2525, tls: none, username: u, password_file: pw}\nimap: {password_file: pw}\n")
	if err := os.WriteFile(filepath.Join(filepath.Dir(p), "pw"), []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&out, nil), slog.NewJSONHandler(&out, nil)} {
		l := slog.New(h)
		l.Info("config", "cfg", cfg, "smtp", cfg.SMTP, "pw", cfg.SMTP.Password)
		l.Info("config", slog.Any("imap", cfg.IMAP), slog.Any("secret", cfg.IMAP.Password))
	}
	fmt.Fprintf(&out, "%v %+v %#v %s %q\n", cfg, cfg, cfg, cfg.SMTP.Password, cfg.IMAP.Password)
	j, _ := json.Marshal(cfg)
	out.Write(j)
	if strings.Contains(out.String(), pw) {
		t.Errorf("the password appears in printed output:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "<secret>") {
		t.Errorf("expected <secret> placeholders in:\n%s", out.String())
	}
	if cfg.SMTP.Password.Reveal() != pw || cfg.IMAP.Password.Reveal() != pw {
		t.Errorf("Reveal lost the password")
	}
}

func TestDatabaseUnderStateDirectory(t *testing.T) {
	t.Setenv("STATE_DIRECTORY", "/var/lib/mentord")
	cfg, err := Parse("/etc/mentord/config.yaml", []byte(minimal+"database: {path: m.db}\n"))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Database.Path != "/var/lib/mentord/m.db" {
		t.Errorf("database path = %q", cfg.Database.Path)
	}
}

func TestDurationsAndSizes(t *testing.T) {
	for in, want := range map[string]time.Duration{"3d": 72 * time.Hour, "1d12h": 36 * time.Hour, "90m": 90 * time.Minute, "45s": 45 * time.Second} {
		got, err := ParseDuration(in)
		if err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %v, %v, want %v", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "d", "3 days", "-1h", "1d-2h", "99999d"} {
		if _, err := ParseDuration(bad); err == nil {
			t.Errorf("ParseDuration(%q) accepted", bad)
		}
	}
	cfg, err := Parse("c.yaml", []byte(minimal+"imap: {max_message_size: 25MiB}\n"))
	if err != nil || cfg.IMAP.MaxMessageSize != 25<<20 {
		t.Errorf("max_message_size = %v, %v", cfg, err)
	}
}

func FuzzParse(f *testing.F) {
	example, err := os.ReadFile("../../config.example.yaml")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(example)
	f.Add([]byte(minimal))
	f.Add([]byte("programme: &a {name: x}\nmailbox: *a\n"))
	f.Add([]byte("timings: {checklist_lead: 1d2h3m, quiet_hours: {start: '25:00'}}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Parse("fuzz.yaml", data)
		if err == nil && cfg == nil {
			t.Fatal("nil config without error")
		}
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error is not Errors: %T %v", err, err)
			}
		}
	})
}

// allKeys lists the key path of every setting in the schema.
func allKeys(t reflect.Type, prefix string) []string {
	var out []string
	for name, ft := range yamlFields(t) {
		path := prefix + name
		out = append(out, path)
		if ft.Kind() == reflect.Struct && !reflect.PointerTo(ft).Implements(unmarshalerType) {
			out = append(out, allKeys(ft, path+".")...)
		}
	}
	return out
}

func TestConfigWritableByEveryoneIsRefused(t *testing.T) {
	p := writeConfig(t, minimal)
	if err := os.Chmod(p, 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err == nil || !strings.Contains(err.Error(), "every user may change it (mode 0666)") {
		t.Fatalf("Load = %v", err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(p); err != nil {
		t.Fatalf("a config others may read (it holds no secret) = %v", err)
	}
}

// The programme's own address and name go into every message (From, the
// invitation's organizer): one no message can carry is refused at once,
// with the key, instead of failing every message.
func TestMailboxThatCanNeverBeMailedIsRefused(t *testing.T) {
	for _, c := range []struct{ yaml, key string }{
		{"programme: {name: Test Programme}\nmailbox: {address: møntoring@example.org}\ndevserver: {enabled: true}\n", "mailbox.address"},
		{"programme: {name: Test Programme}\nmailbox: {address: mentoring@example.org, display_name: \"Staff\\e[31m Mentoring\"}\ndevserver: {enabled: true}\n", "mailbox.display_name"},
		{"programme: {name: Test Programme, admin_email: \"hr@exämple.org\"}\nmailbox: {address: mentoring@example.org}\ndevserver: {enabled: true}\n", "programme.admin_email"},
	} {
		_, err := Parse("c.yaml", []byte(c.yaml))
		if err == nil || !strings.Contains(err.Error(), c.key) {
			t.Errorf("Parse(%q) = %v, want an error at %s", c.yaml, err, c.key)
		}
	}
}

// Replies must be taken at least as long as a reflection can be nudged.
func TestReplyWindow(t *testing.T) {
	base := "programme: {name: P}\nmailbox: {address: m@example.org}\ndevserver: {enabled: true}\n"
	cfg, err := Load(writeConfig(t, base))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timings.ReplyWindow.D() != 60*24*time.Hour {
		t.Errorf("default reply_window = %v; want 60d", cfg.Timings.ReplyWindow)
	}
	for value, ok := range map[string]bool{"7d": true, "400d": true, "6d": false, "801d": false} {
		_, err := Load(writeConfig(t, base+"timings: {reply_window: "+value+"}\n"))
		if (err == nil) != ok || err != nil && !strings.Contains(err.Error(), "timings.reply_window") {
			t.Errorf("reply_window %s: %v, want ok %v", value, err, ok)
		}
	}
}

// The report, status and digest list a pair without a confirmed agreement
// this long after its first meeting.
func TestAgreementWithin(t *testing.T) {
	base := "programme: {name: P}\nmailbox: {address: m@example.org}\ndevserver: {enabled: true}\n"
	cfg, err := Load(writeConfig(t, base))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timings.AgreementWithin.D() != 30*24*time.Hour {
		t.Errorf("default agreement_within = %v; want 30d", cfg.Timings.AgreementWithin)
	}
	for value, ok := range map[string]bool{"1d": true, "45d": true, "365d": true, "12h": false, "366d": false} {
		_, err := Load(writeConfig(t, base+"timings: {agreement_within: "+value+"}\n"))
		if (err == nil) != ok || err != nil && !strings.Contains(err.Error(), "timings.agreement_within") {
			t.Errorf("agreement_within %s: %v, want ok %v", value, err, ok)
		}
	}
}
