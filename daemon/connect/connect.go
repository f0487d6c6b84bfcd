// Package connect turns the configuration into the settings of mentord's mail
// clients, so that the daemon, check-mail and send-test connect the same way:
//  1. NewTokenSource builds the OAuth token source of the oauth section (none
//     with passwords), parsing the certificate's key the configuration checked.
//  2. SMTPConfig and IMAPConfig say where each server is, how the connection
//     is protected, and how the programme mailbox signs in: a password, or a
//     token from that source with XOAUTH2 or OAUTHBEARER.
package connect

import (
	"fmt"
	"log/slog"

	"github.com/mentord/mentord/daemon/config"
	"github.com/mentord/mentord/mail/inbox"
	"github.com/mentord/mentord/mail/oauth"
	"github.com/mentord/mentord/mail/sender"
)

// NewTokenSource builds the OAuth token source of the configuration's oauth
// section, or returns nil when mentord signs in with passwords. It sends no
// request: the daemon's Run fetches the first token, a command its own.
func NewTokenSource(cfg *config.Config, log *slog.Logger, onState func(oauth.State)) (*oauth.Source, error) {
	o := cfg.OAuth
	if !o.Enabled() {
		return nil, nil
	}
	oc := oauth.Config{
		Provider: o.Provider, Grant: o.Grant, TokenURL: o.TokenURL, DeviceAuthURL: o.DeviceAuthorizationURL,
		ClientID: o.ClientID, ClientSecret: o.ClientSecret.Reveal(), Certificate: o.ClientCertificate,
		ServiceAccountJSON: []byte(o.ServiceAccount.Reveal()), Subject: cfg.IMAP.Username, Scopes: o.Scopes,
		RefreshTokenFile: o.RefreshTokenFile, RootCAs: o.RootCAs, Log: log, OnState: onState,
	}
	if o.ClientKey.IsSet() {
		key, err := config.ParsePrivateKey([]byte(o.ClientKey.Reveal()))
		if err != nil {
			return nil, fmt.Errorf("oauth client key: %w", err)
		}
		oc.Key = key
	}
	src, err := oauth.New(oc)
	if err != nil {
		return nil, err
	}
	return src, nil
}

// IMAPConfig turns the configuration into the IMAP client's settings;
// tokens signs in with OAuth (nil with a password).
func IMAPConfig(cfg *config.Config, tokens *oauth.Source) inbox.Config {
	s := cfg.IMAP.Server
	c := inbox.Config{
		Host: s.Host, Port: s.Port, Security: inbox.Security(s.TLS), Auth: cfg.IMAP.Auth, Username: s.Username,
		Password: s.Password.Reveal(), RootCAs: s.RootCAs, ServerName: s.ServerName, Timeout: s.Timeout.D(),
		Provider: cfg.OAuth.Provider,
	}
	if tokens != nil {
		c.Token = tokens
	}
	return c
}

// SMTPConfig turns the configuration into the SMTP client's settings;
// tokens signs in with OAuth (nil with a password).
func SMTPConfig(cfg *config.Config, tokens *oauth.Source) sender.Config {
	s := cfg.SMTP.Server
	c := sender.Config{
		Host: s.Host, Port: s.Port, Security: sender.Security(s.TLS), Auth: cfg.SMTP.Auth, Username: s.Username,
		Password: s.Password.Reveal(), RootCAs: s.RootCAs, ServerName: s.ServerName, Timeout: s.Timeout.D(),
		Provider: cfg.OAuth.Provider,
	}
	if tokens != nil {
		c.Token = tokens
	}
	return c
}
