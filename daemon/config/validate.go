package config

import (
	"cmp"
	"fmt"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/mentord/mentord/calendar"
	mentormail "github.com/mentord/mentord/mail"
)

// DevPassword is what mentord logs in with at its own dev mail server, which
// accepts any password.
const DevPassword = "dev"

func (c *Config) applyDefaults() {
	if c.Mailbox.PlusDelimiter == "" {
		c.Mailbox.PlusDelimiter = "+"
	}
	if c.Mailbox.DisplayName == "" {
		c.Mailbox.DisplayName = c.Programme.Name
	}
	if c.DevServer.SMTPListen == "" {
		c.DevServer.SMTPListen = "127.0.0.1:2525"
	}
	if c.DevServer.IMAPListen == "" {
		c.DevServer.IMAPListen = "127.0.0.1:1143"
	}
	if c.DevServer.Enabled {
		c.defaultToDevServer(&c.SMTP.Server, c.DevServer.SMTPListen)
		c.defaultToDevServer(&c.IMAP.Server, c.DevServer.IMAPListen)
	}
	c.SMTP.Auth = strings.ToLower(strings.TrimSpace(c.SMTP.Auth))
	c.IMAP.Auth = strings.ToLower(strings.TrimSpace(c.IMAP.Auth))
	if c.IMAP.Username == "" {
		c.IMAP.Username = c.Mailbox.Address
	}
	c.applyProvider()
	defaultServer(&c.SMTP.Server, 465, 587)
	defaultServer(&c.IMAP.Server, 993, 143)
	if c.SMTP.Auth == "" {
		c.SMTP.Auth = "none"
		if c.SMTP.Username != "" {
			c.SMTP.Auth = "plain"
		}
	}
	c.IMAP.Auth = cmpOr(c.IMAP.Auth, "login")
	f := &c.IMAP.Folders
	f.Inbox = cmpOr(f.Inbox, "INBOX")
	f.Processed = cmpOr(f.Processed, "Processed")
	f.Quarantine = cmpOr(f.Quarantine, "Quarantine")
	f.Unrelated = cmpOr(f.Unrelated, "Unrelated")
	if c.IMAP.PollInterval == 0 {
		c.IMAP.PollInterval = Duration(5 * time.Minute)
	}
	c.Retention.RawMessages = cmpOr(c.Retention.RawMessages, Duration(90*24*time.Hour))
	c.Retention.PairLog = cmpOr(c.Retention.PairLog, Duration(365*24*time.Hour))
	if c.IMAP.MaxMessageSize == 0 {
		c.IMAP.MaxMessageSize = 10 << 20
	}
	c.Database.Path = cmpOr(c.Database.Path, "mentord.db")
	c.Defaults.Timezone = cmpOr(c.Defaults.Timezone, "UTC")
	c.Defaults.Language = cmpOr(c.Defaults.Language, "en")
	t := &c.Timings
	t.InviteAhead = cmpOr(t.InviteAhead, Duration(90*24*time.Hour))
	t.ChecklistLead = cmpOr(t.ChecklistLead, Duration(72*time.Hour))
	if !t.ChecklistTime.Set {
		t.ChecklistTime = ClockTime{Minutes: 9 * 60, Set: true}
	}
	t.ReflectionDelay = cmpOr(t.ReflectionDelay, Duration(2*time.Hour))
	t.NudgeAfter = cmpOr(t.NudgeAfter, Duration(48*time.Hour))
	t.ReflectionWindow = cmpOr(t.ReflectionWindow, Duration(7*24*time.Hour))
	t.ReplyWindow = cmpOr(t.ReplyWindow, Duration(60*24*time.Hour))
	c.talkDefaults()
	c.Log.Level = cmpOr(strings.ToLower(c.Log.Level), "info")
	c.Log.Format = cmpOr(strings.ToLower(c.Log.Format), "text")
	c.Service.ShutdownTimeout = cmpOr(c.Service.ShutdownTimeout, Duration(30*time.Second))
	c.resolvePaths()
}

// defaultToDevServer points an unset server section at the dev mail server.
func (c *Config) defaultToDevServer(s *Server, listen string) {
	if s.Host != "" {
		return
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return
	}
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	s.TLS = TLSNone
}

func defaultServer(s *Server, implicitPort, plainPort int) {
	if s.TLS == "" {
		s.TLS = TLSStartTLS
	}
	if s.Port == 0 {
		s.Port = plainPort
		if s.TLS == TLSImplicit {
			s.Port = implicitPort
		}
	}
	s.Timeout = cmpOr(s.Timeout, Duration(30*time.Second))
}

// resolvePaths makes relative paths absolute: the database under systemd's
// $STATE_DIRECTORY when set, everything else next to the configuration file.
func (c *Config) resolvePaths() {
	dir := filepath.Dir(c.File)
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	rel := func(p, base string) string {
		if p == "" || filepath.IsAbs(p) {
			return p
		}
		return filepath.Join(base, p)
	}
	dbBase := dir
	if sd := os.Getenv("STATE_DIRECTORY"); sd != "" {
		dbBase = strings.Split(sd, ":")[0]
	} else if c.opts.StateDir != "" {
		dbBase = c.opts.StateDir
	}
	c.Database.Path = rel(c.Database.Path, dbBase)
	c.Templates.Dir = rel(c.Templates.Dir, dir)
	c.SMTP.CAFile = rel(c.SMTP.CAFile, dir)
	c.IMAP.CAFile = rel(c.IMAP.CAFile, dir)
	c.SMTP.PasswordFile = rel(c.SMTP.PasswordFile, dir)
	c.IMAP.PasswordFile = rel(c.IMAP.PasswordFile, dir)
	c.resolveOAuthPaths(rel, dir)
}

type checker struct {
	c    *Config
	errs Errors
}

func (k *checker) errorf(path, format string, args ...any) {
	line := k.c.lines[path]
	for p := path; line == 0 && strings.Contains(p, "."); {
		p = p[:strings.LastIndexByte(p, '.')]
		line = k.c.lines[p]
	}
	k.errs = append(k.errs, &Error{File: k.c.File, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (c *Config) validate() Errors {
	k := &checker{c: c}
	if strings.TrimSpace(c.Programme.Name) == "" {
		k.errorf("programme.name", "required: the programme's name, shown in every message")
	}
	k.headerText("programme.name", c.Programme.Name)
	k.headerText("programme.organisation", c.Programme.Organisation)
	if c.Programme.AdminEmail != "" {
		k.address("programme.admin_email", c.Programme.AdminEmail)
	}
	k.talk()
	if c.Mailbox.Address == "" {
		k.errorf("mailbox.address", "required: the programme's own address (invites come from it, replies go to it)")
	} else {
		k.address("mailbox.address", c.Mailbox.Address)
	}
	k.headerText("mailbox.display_name", c.Mailbox.DisplayName)
	k.displayName("mailbox.display_name", c.Mailbox.DisplayName)
	if !slices.Contains([]string{"+", "-", "_", "=", "none"}, c.Mailbox.PlusDelimiter) {
		k.errorf("mailbox.plus_delimiter", "must be one of + - _ = or none (for servers without plus-addressing, such as Exchange), not %q", c.Mailbox.PlusDelimiter)
	} else if c.PlusAddressing() && strings.Contains(localPart(c.Mailbox.Address), c.Mailbox.PlusDelimiter) {
		k.errorf("mailbox.plus_delimiter", "%q already occurs in the mailbox address's local part; choose another delimiter", c.Mailbox.PlusDelimiter)
	}
	k.server("smtp", &c.SMTP.Server)
	switch c.SMTP.Auth {
	case "none":
	case "plain", "login":
		if c.SMTP.Username == "" {
			k.errorf("smtp.username", "required with smtp.auth %s", c.SMTP.Auth)
		}
		k.passwordSource("smtp", &c.SMTP.Server, false)
	case AuthXOAUTH2, AuthOAuthBearer:
	default:
		k.errorf("smtp.auth", "must be plain, login, xoauth2, oauthbearer or none, not %q", c.SMTP.Auth)
	}
	if n := c.SMTP.MaxPerDomainPerMinute; n < 0 || n > 100000 {
		k.errorf("smtp.max_per_domain_per_minute", "must be 0 (no limit) or a positive number of messages")
	}
	if n := c.SMTP.MaxPerMinute; n < 0 || n > 100000 {
		k.errorf("smtp.max_per_minute", "must be 0 (no limit) or a positive number of messages")
	}
	if n := c.SMTP.MaxRecipientsPerDay; n < 0 || n > 10000000 {
		k.errorf("smtp.max_recipients_per_day", "must be 0 (no limit) or a positive number of recipients")
	}
	k.server("imap", &c.IMAP.Server)
	if c.IMAP.Username == "" {
		k.errorf("imap.username", "required (defaults to mailbox.address)")
	}
	switch c.IMAP.Auth {
	case "login":
		k.passwordSource("imap", &c.IMAP.Server, c.DevServer.Enabled)
	case AuthXOAUTH2, AuthOAuthBearer:
	default:
		k.errorf("imap.auth", "must be login, xoauth2 or oauthbearer, not %q", c.IMAP.Auth)
	}
	k.oauth()
	k.folders()
	if d := c.IMAP.PollInterval.D(); d < 10*time.Second || d > time.Hour {
		k.errorf("imap.poll_interval", "must be between 10s and 1h, not %s", c.IMAP.PollInterval)
	}
	if d := c.Retention.RawMessages.D(); d < 24*time.Hour {
		k.errorf("retention.raw_messages", "must be at least 1d")
	}
	if d := c.Retention.PairLog.D(); d < 24*time.Hour {
		k.errorf("retention.pair_log", "must be at least 1d")
	}
	if s := c.IMAP.MaxMessageSize; s < 64<<10 || s > 1<<30 {
		k.errorf("imap.max_message_size", "must be between 64KiB and 1GiB")
	}
	k.defaults()
	k.timings()
	if c.Templates.Dir != "" {
		if st, err := os.Stat(c.Templates.Dir); err != nil || !st.IsDir() {
			k.errorf("templates.dir", "%s is not a readable directory", c.Templates.Dir)
		}
	}
	if c.HTTP.Listen != "" {
		if _, _, err := net.SplitHostPort(c.HTTP.Listen); err != nil {
			k.errorf("http.listen", "must be host:port, like 127.0.0.1:9464 (%v)", err)
		}
	}
	if c.DevServer.Enabled {
		k.loopbackListen("devserver.smtp_listen", c.DevServer.SMTPListen)
		k.loopbackListen("devserver.imap_listen", c.DevServer.IMAPListen)
	}
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		k.errorf("log.level", "must be debug, info, warn or error, not %q", c.Log.Level)
	}
	if c.Log.Format != "text" && c.Log.Format != "json" {
		k.errorf("log.format", "must be text or json, not %q", c.Log.Format)
	}
	if d := c.Service.ShutdownTimeout.D(); d < time.Second || d > 10*time.Minute {
		k.errorf("service.shutdown_timeout", "must be between 1s and 10m")
	}
	return k.errs
}

func (k *checker) server(sect string, s *Server) {
	if s.Host == "" {
		k.errorf(sect+".host", "required (or enable devserver to use the embedded dev mail server)")
	} else if strings.ContainsAny(s.Host, " /\r\n") {
		k.errorf(sect+".host", "%q is not a host name or address", s.Host)
	}
	if s.Port < 1 || s.Port > 65535 {
		k.errorf(sect+".port", "must be 1-65535, not %d", s.Port)
	}
	if s.TLS == TLSNone && s.Host != "" && !IsLoopbackHost(s.Host) {
		k.errorf(sect+".tls", "none is allowed only for a loopback host (127.0.0.1, ::1, localhost); %s needs implicit or starttls", s.Host)
	}
	if s.CAFile != "" {
		if _, err := os.Stat(s.CAFile); err != nil {
			k.errorf(sect+".ca_file", "%v", err)
		}
	}
	if s.Timeout.D() < time.Second || s.Timeout.D() > 10*time.Minute {
		k.errorf(sect+".timeout", "must be between 1s and 10m")
	}
}

func (k *checker) passwordSource(sect string, s *Server, optional bool) {
	switch {
	case s.PasswordFile != "" && s.PasswordCredential != "":
		k.errorf(sect+".password_credential", "give either password_file or password_credential, not both")
	case s.PasswordCredential != "" && strings.ContainsAny(s.PasswordCredential, "/\\") || s.PasswordCredential == "." || s.PasswordCredential == "..":
		k.errorf(sect+".password_credential", "must be a credential name (as in LoadCredential=NAME:...), not a path")
	case s.PasswordFile == "" && s.PasswordCredential == "" && !optional:
		k.errorf(sect+".password_file", "required: give password_file, or password_credential with systemd's LoadCredential=")
	}
}

func (k *checker) folders() {
	f := k.c.IMAP.Folders
	seen := map[string]string{}
	for _, x := range []struct{ key, name string }{
		{"inbox", f.Inbox}, {"processed", f.Processed}, {"quarantine", f.Quarantine}, {"unrelated", f.Unrelated},
	} {
		path := "imap.folders." + x.key
		if strings.ContainsAny(x.name, "\r\n\x00*%") {
			k.errorf(path, "%q is not a usable folder name", x.name)
		}
		if other, dup := seen[strings.ToUpper(x.name)]; dup {
			k.errorf(path, "the same folder as imap.folders.%s", other)
		}
		seen[strings.ToUpper(x.name)] = x.key
	}
}

func (k *checker) defaults() {
	loc, err := time.LoadLocation(k.c.Defaults.Timezone)
	if err != nil || k.c.Defaults.Timezone == "Local" {
		k.errorf("defaults.timezone", "unknown time zone %q (use an IANA name such as Europe/Copenhagen)", k.c.Defaults.Timezone)
	}
	k.c.Location = loc
	if !slices.Contains(Languages, k.c.Defaults.Language) {
		k.errorf("defaults.language", "must be one of %s, not %q", strings.Join(Languages, ", "), k.c.Defaults.Language)
	}
}

func (k *checker) timings() {
	t := k.c.Timings
	if d := t.InviteAhead.D(); d < 24*time.Hour || d > 800*24*time.Hour {
		k.errorf("timings.invite_ahead", "must be between 1d and 800d")
	}
	if d := t.ChecklistLead.D(); d < time.Hour || d > 30*24*time.Hour {
		k.errorf("timings.checklist_lead", "must be between 1h and 30d")
	}
	if d := t.ReflectionDelay.D(); d > 7*24*time.Hour {
		k.errorf("timings.reflection_delay", "must be at most 7d")
	}
	if d := t.NudgeAfter.D(); d < time.Hour || d > 30*24*time.Hour {
		k.errorf("timings.nudge_after", "must be between 1h and 30d")
	}
	if t.ReflectionWindow.D() < t.NudgeAfter.D() {
		k.errorf("timings.reflection_window", "must be at least timings.nudge_after (%s), or no reflection could ever be nudged", t.NudgeAfter)
	}
	if d := t.ReplyWindow.D(); d < t.ReflectionWindow.D() || d > 800*24*time.Hour {
		k.errorf("timings.reply_window", "must be between timings.reflection_window (%s), or replies to a nudged reflection would come too late, and 800d", t.ReflectionWindow)
	}
	q := t.QuietHours
	if q.Start.Set != q.End.Set {
		k.errorf("timings.quiet_hours", "give both start and end, or neither")
	} else if q.Start.Set && q.Start == q.End {
		k.errorf("timings.quiet_hours", "start and end are equal; leave both out to disable quiet hours")
	}
}

// address checks an address of the programme's that goes into messages (and,
// for the mailbox, as the organizer into invitations) with the checks every
// message is built with.
func (k *checker) address(path, s string) {
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != strings.TrimSpace(s) {
		k.errorf(path, "%q is not a plain email address (like mentoring@example.org)", s)
		return
	}
	err = mentormail.CheckAddress(a.Address)
	if path == "mailbox.address" {
		err = cmp.Or(err, calendar.CheckAddress(a.Address))
	}
	if err != nil {
		k.errorf(path, "%q can never be mailed: %v", s, err)
	}
}

// displayName checks a name that goes into From and the invitations' organizer.
func (k *checker) displayName(path, s string) {
	if err := cmp.Or(mentormail.CheckName(s), calendar.CheckName(s)); err != nil && !strings.ContainsAny(s, "\r\n") {
		k.errorf(path, "%q can never be mailed: %v", s, err)
	}
}

func (k *checker) headerText(path, s string) {
	if strings.ContainsAny(s, "\r\n\x00") {
		k.errorf(path, "must be a single line (it goes into mail headers)")
	}
}

func (k *checker) loopbackListen(path, addr string) {
	if err := CheckLoopback(addr); err != nil {
		k.errorf(path, "%v", err)
	}
}

// CheckLoopback returns an error unless addr (host:port) is on loopback.
func CheckLoopback(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be host:port on loopback, like 127.0.0.1:2525 (%v)", err)
	}
	if !IsLoopbackHost(host) {
		return fmt.Errorf("%s is not a loopback address; the dev mail server accepts any password and must stay on 127.0.0.1 or ::1", host)
	}
	return nil
}

// IsLoopbackHost reports whether host is localhost or a loopback IP.
func IsLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func localPart(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return addr[:i]
	}
	return addr
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}
