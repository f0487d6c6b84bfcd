// Package config loads, checks and holds mentord's YAML configuration.
//
// The flow:
//  1. Parse reads the YAML into a node tree and walks it against the schema,
//     so every unknown key is reported with its line and key path.
//  2. The tree is decoded into Config; type errors keep their line numbers.
//  3. Defaults fill what was left out (ports from the TLS mode, folders, timings,
//     and the embedded dev mail server's addresses when it is enabled).
//  4. Validate checks every value and collects all errors before giving up.
//  5. Load also reads the secrets, from password files or from systemd
//     credentials ($CREDENTIALS_DIRECTORY, LoadCredential=), into Secret values
//     that never print.
package config

import (
	"crypto/x509"
	"time"
)

// DefaultPath is where the service looks for its configuration.
const DefaultPath = "/etc/mentord/config.yaml"

// Languages are the languages mentord writes to people in.
var Languages = []string{"en", "da"}

// Config is the whole configuration file.
type Config struct {
	Programme Programme `yaml:"programme"`
	Mailbox   Mailbox   `yaml:"mailbox"`
	SMTP      SMTP      `yaml:"smtp"`
	IMAP      IMAP      `yaml:"imap"`
	OAuth     OAuth     `yaml:"oauth"`
	Database  Database  `yaml:"database"`
	Defaults  Defaults  `yaml:"defaults"`
	Timings   Timings   `yaml:"timings"`
	Templates Templates `yaml:"templates"`
	HTTP      HTTP      `yaml:"http"`
	DevServer DevServer `yaml:"devserver"`
	Log       Log       `yaml:"log"`
	Service   Service   `yaml:"service"`
	Retention Retention `yaml:"retention"`

	// File is the path the configuration was read from.
	File string `yaml:"-"`
	// Location is Defaults.Timezone, loaded.
	Location *time.Location `yaml:"-"`
	// Filled lists the values a provider preset filled in (check-config shows them).
	Filled []Filled `yaml:"-"`

	lines map[string]int // key path → line, for errors found after parsing
	opts  Options        // the fallbacks it was loaded with
}

// Programme names the mentoring programme in every message.
type Programme struct {
	Name         string `yaml:"name"`
	Organisation string `yaml:"organisation"`
	AdminEmail   string `yaml:"admin_email"`
	// MentorBrief sends mentors a brief the day before each session; it holds
	// the mentee's plan only when the mentee chose to share it (share_plans).
	// Nil means the default, true.
	MentorBrief *bool `yaml:"mentor_brief"`
	// Acknowledge sends the mentee, after each logged reply, what was recorded
	// and how to correct it. Nil means the default, true.
	Acknowledge *bool `yaml:"acknowledge"`
	// Rescheduling: who agrees a new time a participant proposes: "pair"
	// (mentord asks the other person; the default) or "admin" (passed to
	// the admin, who moves the session with `mentord session move`).
	Rescheduling string `yaml:"rescheduling"`
	// AdminDigest: how often the admin gets a list of what needs a person:
	// daily (the default), weekly or off.
	AdminDigest string `yaml:"admin_digest"`
	// MentorReflection asks the mentor, after each session, the same three
	// reflection questions as the mentee, for the mentor's own log (and at
	// the final session the evaluation questions too). Off by default.
	MentorReflection bool `yaml:"mentor_reflection"`
}

// Mailbox is the programme's own address: invites come from it, replies go to it.
type Mailbox struct {
	Address       string `yaml:"address"`
	DisplayName   string `yaml:"display_name"`
	PlusDelimiter string `yaml:"plus_delimiter"` // "+" (default), "-", "_", "=", or "none"
}

// Server is what SMTP and IMAP share: where, how protected, who logs in.
type Server struct {
	Host               string   `yaml:"host"`
	Port               int      `yaml:"port"`
	TLS                TLSMode  `yaml:"tls"`
	CAFile             string   `yaml:"ca_file"`
	ServerName         string   `yaml:"server_name"`
	Username           string   `yaml:"username"`
	PasswordFile       string   `yaml:"password_file"`
	PasswordCredential string   `yaml:"password_credential"`
	Timeout            Duration `yaml:"timeout"`

	// Password is read from PasswordFile or PasswordCredential by Load.
	Password Secret `yaml:"-"`
	// RootCAs is CAFile, loaded by Load; nil means the system's roots.
	RootCAs *x509.CertPool `yaml:"-"`
}

// SMTP is the submission server for outgoing mail.
type SMTP struct {
	Server `yaml:",inline"`
	Auth   string `yaml:"auth"` // plain, login, none, xoauth2 or oauthbearer
	// MaxPerDomainPerMinute limits messages to one recipient domain; 0 is no limit.
	MaxPerDomainPerMinute int `yaml:"max_per_domain_per_minute"`
	// MaxPerMinute limits messages a minute through this server, and
	// MaxRecipientsPerDay the recipients in any 24 hours (each message has one
	// recipient): the provider's sending quotas. 0 is no limit, or the
	// provider's published limit when oauth.provider names one.
	MaxPerMinute        int `yaml:"max_per_minute"`
	MaxRecipientsPerDay int `yaml:"max_recipients_per_day"`
}

// IMAP is the server holding the programme mailbox.
type IMAP struct {
	Server         `yaml:",inline"`
	Auth           string   `yaml:"auth"` // login (default), xoauth2 or oauthbearer
	Folders        Folders  `yaml:"folders"`
	PollInterval   Duration `yaml:"poll_interval"`
	MaxMessageSize ByteSize `yaml:"max_message_size"`
	// AuthservID is the authserv-id of the Authentication-Results header that
	// the programme's own mail server adds (RFC 8601); a reply whose DMARC
	// result there is fail is quarantined. Empty: such headers are not read.
	AuthservID string `yaml:"authserv_id"`
	// Idle uses IMAP IDLE when the server offers it; false polls instead.
	// Nil means the default, true.
	Idle *bool `yaml:"idle"`
}

// Folders are where handled mail is moved to; created when missing.
type Folders struct {
	Inbox      string `yaml:"inbox"`
	Processed  string `yaml:"processed"`
	Quarantine string `yaml:"quarantine"`
	Unrelated  string `yaml:"unrelated"`
}

// Database is the SQLite file.
type Database struct {
	Path string `yaml:"path"`
}

// Defaults apply to people added without their own time zone or language.
type Defaults struct {
	Timezone string `yaml:"timezone"`
	Language string `yaml:"language"`
}

// Timings set the rhythm of prompts around each session.
type Timings struct {
	InviteAhead      Duration   `yaml:"invite_ahead"`
	ChecklistLead    Duration   `yaml:"checklist_lead"`
	ChecklistTime    ClockTime  `yaml:"checklist_time"`
	ReflectionDelay  Duration   `yaml:"reflection_delay"`
	NudgeAfter       Duration   `yaml:"nudge_after"`
	ReflectionWindow Duration   `yaml:"reflection_window"`
	ReplyWindow      Duration   `yaml:"reply_window"` // replies about a session are taken until this long after it ends (earlier when it is cancelled or its pair ends)
	QuietHours       QuietHours `yaml:"quiet_hours"`
	MoveWait         Duration   `yaml:"move_wait"` // how long the other person has to answer a proposed new time (default 3d)
	// AgreementWithin: a pair whose agreement both have not confirmed this
	// long after their first meeting is listed in the report, status and
	// the admin digest (default 30d).
	AgreementWithin Duration `yaml:"agreement_within"`
}

// QuietHours is a daily window, in each recipient's own time zone, in which no
// prompt is sent. Start after End wraps over midnight; both empty disables it.
type QuietHours struct {
	Start ClockTime `yaml:"start"`
	End   ClockTime `yaml:"end"`
}

// Templates may override the embedded message wording.
type Templates struct {
	Dir string `yaml:"dir"`
}

// HTTP is the optional health and metrics listener.
type HTTP struct {
	Listen string `yaml:"listen"`
}

// DevServer is the embedded loopback SMTP + IMAP server for development.
type DevServer struct {
	Enabled    bool   `yaml:"enabled"`
	SMTPListen string `yaml:"smtp_listen"`
	IMAPListen string `yaml:"imap_listen"`
}

// Log sets the log level and format.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text or json
}

// Retention says how long what mentord keeps is kept; `mentord purge` (run
// daily by the daemon) applies it.
type Retention struct {
	// RawMessages: the originals of read messages (compressed), kept to read
	// them again; after this only what was logged from them remains.
	RawMessages Duration `yaml:"raw_messages"`
	// PairLog: a pair's whole log (answers, replies, promises, RSVPs and the
	// messages behind them) is deleted this long after its programme ended.
	PairLog Duration `yaml:"pair_log"`
}

// Service holds process-level settings.
type Service struct {
	ShutdownTimeout Duration `yaml:"shutdown_timeout"`
}

// Line returns the line of the key at path (like "smtp.port"), or 0.
func (c *Config) Line(path string) int { return c.lines[path] }

// BriefsEnabled reports whether the programme sends mentor briefs.
func (c *Config) BriefsEnabled() bool {
	return c.Programme.MentorBrief == nil || *c.Programme.MentorBrief
}

// AcknowledgeReplies reports whether logged replies are acknowledged.
func (c *Config) AcknowledgeReplies() bool {
	return c.Programme.Acknowledge == nil || *c.Programme.Acknowledge
}

// PlusAddressing reports whether reply tokens go into the address.
func (c *Config) PlusAddressing() bool { return c.Mailbox.PlusDelimiter != "none" }
