package admin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/daemon/connect"
	"github.com/mentord/mentord/mail"
	"github.com/mentord/mentord/mail/inbox"
	"github.com/mentord/mentord/mail/oauth"
	"github.com/mentord/mentord/mail/sender"
)

// `mentord check-mail` signs in to SMTP and IMAP exactly as the daemon does
// and proves the round trip:
//  1. the OAuth token (when the configuration uses OAuth);
//  2. SMTP: connect, TLS, sign in; IMAP: connect, TLS, sign in;
//  3. the folders: the inbox is there, the others are made when missing;
//  4. a probe to the mailbox's plus-address (mentoring+probe@) is accepted by
//     SMTP and arrives in the inbox (or in a folder the running daemon moved
//     it to), and is then removed;
//  5. with SendTo, a short message to that address is accepted too.
// A step that cannot run because an earlier one failed is reported as skipped.

// CheckMailOptions tune CheckMail.
type CheckMailOptions struct {
	SendTo string        // also send a short message to this address
	Wait   time.Duration // how long to wait for the probe; default 2 minutes
	Log    *slog.Logger
}

// Step is one step of a mail check.
type Step struct {
	Name    string `json:"step"`
	OK      bool   `json:"ok"`
	Skipped bool   `json:"skipped,omitempty"` // an earlier step failed
	Detail  string `json:"detail,omitempty"`  // what was seen
	Error   string `json:"error,omitempty"`   // why it failed, and what to fix
	Millis  int64  `json:"ms"`
}

// MailCheck is the whole check.
type MailCheck struct {
	OK    bool   `json:"ok"`
	Steps []Step `json:"steps"`
}

// probeWait is how long check-mail waits for its probe by default: providers
// deliver a message to the sender's own mailbox in seconds.
const probeWait = 2 * time.Minute

// CheckMail runs the check; progress, when set, sees each step as it ends.
func CheckMail(ctx context.Context, cfg *config.Config, opts CheckMailOptions, progress func(Step)) MailCheck {
	if opts.Wait <= 0 {
		opts.Wait = probeWait
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	k := &checkRun{ctx: ctx, cfg: cfg, opts: opts, progress: progress, out: MailCheck{OK: true}}
	k.run()
	return k.out
}

type checkRun struct {
	ctx      context.Context
	cfg      *config.Config
	opts     CheckMailOptions
	progress func(Step)
	out      MailCheck

	tokens *oauth.Source
	smtp   *sender.Conn
	imap   *imapclient.Client
}

// step runs fn as the step name unless skip is set; fn returns what it saw.
func (k *checkRun) step(name string, skip bool, fn func() (string, error)) bool {
	st := Step{Name: name}
	start := time.Now()
	switch {
	case skip:
		st.Skipped = true
	default:
		detail, err := fn()
		st.Detail, st.OK = detail, err == nil
		if err != nil {
			st.Error = err.Error()
		}
	}
	st.Millis = time.Since(start).Milliseconds()
	if !st.OK {
		k.out.OK = false
	}
	k.out.Steps = append(k.out.Steps, st)
	if k.progress != nil {
		k.progress(st)
	}
	return st.OK
}

func (k *checkRun) run() {
	defer func() {
		if k.smtp != nil {
			k.smtp.Close()
		}
		if k.imap != nil {
			_ = inbox.Await(k.imap, k.imap.Logout().Wait)
			k.imap.Close()
		}
	}()
	cfg := k.cfg
	tokenOK := true
	if cfg.OAuth.Enabled() {
		tokenOK = k.step("oauth token", false, k.token)
	}
	smtpOK := k.step("smtp sign-in", !tokenOK, k.smtpSignIn)
	imapOK := k.step("imap sign-in", !tokenOK, k.imapSignIn)
	foldersOK := k.step("folders", !imapOK, k.folders)
	var probeID string
	sent := k.step("send to the mailbox", !smtpOK || !foldersOK, func() (string, error) {
		var err error
		var detail string
		probeID, detail, err = k.sendProbe()
		return detail, err
	})
	k.step("delivery to the mailbox", !sent, func() (string, error) { return k.awaitProbe(probeID) })
	if k.opts.SendTo != "" {
		k.step("send to the address", !smtpOK, k.sendTo)
	}
}

func (k *checkRun) token() (string, error) {
	src, err := connect.NewTokenSource(k.cfg, k.opts.Log, nil)
	if err != nil {
		return "", err
	}
	if _, err := src.Token(k.ctx); err != nil {
		return "", err
	}
	k.tokens = src
	st := src.State()
	return fmt.Sprintf("%s, grant %s, for %s: valid until %s", st.Provider, st.Grant, st.Identity,
		st.ValidUntil.Local().Format("15:04:05")), nil
}

func (k *checkRun) smtpSignIn() (string, error) {
	sc := connect.SMTPConfig(k.cfg, k.tokens)
	conn, err := sender.New(sc, k.opts.Log).Dial(k.ctx)
	if err != nil {
		return "", err
	}
	k.smtp = conn
	return fmt.Sprintf("%s:%d, %s, %s", sc.Host, sc.Port, tlsName(string(sc.Security)), authName(sc.Auth, sc.Username)), nil
}

func (k *checkRun) imapSignIn() (string, error) {
	ic := connect.IMAPConfig(k.cfg, k.tokens)
	c, err := inbox.Dial(k.ctx, ic)
	if err != nil {
		return "", err
	}
	k.imap = c
	return fmt.Sprintf("%s:%d, %s, %s", ic.Host, ic.Port, tlsName(string(ic.Security)), authName(ic.Auth, ic.Username)), nil
}

func tlsName(mode string) string {
	switch mode {
	case string(config.TLSImplicit):
		return "TLS"
	case string(config.TLSStartTLS):
		return "STARTTLS"
	}
	return "no TLS (loopback)"
}

func authName(auth, user string) string {
	switch strings.ToLower(auth) {
	case "", "none":
		return "no sign-in"
	case "login", "plain":
		return "password of " + user
	}
	return strings.ToUpper(auth) + " as " + user
}

func (k *checkRun) folders() (string, error) {
	f := k.cfg.IMAP.Folders
	examine := func() error { _, err := k.imap.Select(f.Inbox, &imap.SelectOptions{ReadOnly: true}).Wait(); return err }
	if err := inbox.Await(k.imap, examine); err != nil {
		return "", fmt.Errorf("the inbox folder %q cannot be opened: %w (check imap.folders.inbox)", f.Inbox, err)
	}
	created, err := inbox.EnsureFolders(k.imap, f.Processed, f.Quarantine, f.Unrelated)
	if err != nil {
		return "", err
	}
	detail := strings.Join([]string{f.Inbox, f.Processed, f.Quarantine, f.Unrelated}, ", ")
	if len(created) > 0 {
		detail += " (created now: " + strings.Join(created, ", ") + ")"
	}
	return detail, nil
}

// probeAddress is where the probe goes: the mailbox's plus-address, the kind of
// address every reply token lives in.
func (k *checkRun) probeAddress() string {
	return mail.ReplyAddress(k.cfg.Mailbox.Address, k.cfg.Mailbox.PlusDelimiter, "probe")
}

func (k *checkRun) sendProbe() (id, detail string, err error) {
	box := k.cfg.Mailbox
	now := time.Now()
	id = mail.MessageID(fmt.Sprint(now.UnixNano()), "check-mail", mail.Domain(box.Address))
	to := k.probeAddress()
	m := &mail.Message{
		From: mail.Address{Name: box.DisplayName, Email: box.Address}, To: mail.Address{Email: to},
		Subject: "mentord check-mail probe " + now.Format(time.RFC3339), Date: now, MessageID: id,
		Text: "mentord check-mail sent this message to check that mail to the programme mailbox arrives.\n" +
			"It removes it once it has arrived; if you see it, the check stopped before that, and you may delete it.\n",
	}
	raw, err := m.Bytes()
	if err != nil {
		return "", "", err
	}
	env := sender.Envelope{From: mail.BounceAddress(box.Address, box.PlusDelimiter, id), To: []string{to}}
	if err := k.smtp.Send(k.ctx, env, raw); err != nil {
		return "", "", err
	}
	return id, "accepted for " + to, nil
}

// awaitProbe looks for the probe until it arrives or the wait is over: in the
// inbox, and in the folders a running daemon moves what it read to.
func (k *checkRun) awaitProbe(id string) (string, error) {
	f := k.cfg.IMAP.Folders
	start := time.Now()
	ctx, cancel := context.WithTimeout(k.ctx, k.opts.Wait)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { k.imap.Close() })
	defer stop()
	for {
		for _, folder := range []string{f.Inbox, f.Unrelated, f.Processed, f.Quarantine} {
			uid, found, err := inbox.Find(k.imap, folder, id)
			if err != nil {
				if ctx.Err() != nil {
					break
				}
				return "", err
			}
			if !found {
				continue
			}
			took := time.Since(start).Round(time.Millisecond)
			where := "in " + folder
			if folder != f.Inbox {
				where = "and the running mentord moved it to " + folder
			}
			if err := inbox.Remove(k.imap, uid); err != nil {
				return "", fmt.Errorf("it arrived after %s %s, but could not be removed: %w", took, where, err)
			}
			return fmt.Sprintf("arrived after %s %s; removed", took, where), nil
		}
		select {
		case <-ctx.Done():
			if errors.Is(k.ctx.Err(), context.Canceled) {
				return "", k.ctx.Err()
			}
			return "", fmt.Errorf("the probe to %s did not arrive within %s: check that the server delivers "+
				"plus-addresses (%s) to the mailbox, or set mailbox.plus_delimiter: none", k.probeAddress(), k.opts.Wait,
				k.cfg.Mailbox.PlusDelimiter)
		case <-time.After(500 * time.Millisecond):
		}
	}
}

func (k *checkRun) sendTo() (string, error) {
	box := k.cfg.Mailbox
	if err := mail.CheckHeader(k.opts.SendTo); err != nil {
		return "", err
	}
	now := time.Now()
	id := mail.MessageID(fmt.Sprint(now.UnixNano()), "check-mail:send-to", mail.Domain(box.Address))
	m := &mail.Message{
		From: mail.Address{Name: box.DisplayName, Email: box.Address}, To: mail.Address{Email: k.opts.SendTo},
		Subject: "[test] " + k.cfg.Programme.Name + ": mentord can send mail", Date: now, MessageID: id,
		Text: "This message tests that mentord, which runs " + k.cfg.Programme.Name + ", can send mail from " + box.Address +
			".\nIt was sent by `mentord check-mail`. No reply is needed.\n",
	}
	raw, err := m.Bytes()
	if err != nil {
		return "", err
	}
	env := sender.Envelope{From: mail.BounceAddress(box.Address, box.PlusDelimiter, id), To: []string{k.opts.SendTo}}
	if err := k.smtp.Send(k.ctx, env, raw); err != nil {
		return "", err
	}
	return "accepted for " + k.opts.SendTo + " (Message-ID <" + id + ">)", nil
}
