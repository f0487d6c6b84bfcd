package sender

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/mentord/mentord/mail/smtptest"
)

// reply parses a server reply as the SMTP client does (net/textproto), so the
// table holds the lines as servers send them, several lines joined by \n.
func reply(t *testing.T, lines string) error {
	t.Helper()
	raw := strings.ReplaceAll(lines, "\n", "\r\n") + "\r\n"
	_, _, err := textproto.NewReader(bufio.NewReader(strings.NewReader(raw))).ReadResponse(250)
	var tp *textproto.Error
	if !errors.As(err, &tp) {
		t.Fatalf("%q does not parse as a failure reply: %v", lines, err)
	}
	// As go-mail hands it over, wrapped in a step of the transaction.
	return &Error{Op: "MAIL FROM", Err: fmt.Errorf("SMTP AUTH failed: %w", err)}
}

// Real replies from Exchange Online, Gmail and Google Workspace, Amazon SES
// and Postfix policy servers, as published by the providers or quoted in
// support threads (addresses and ids replaced).
func TestThrottling(t *testing.T) {
	tests := []struct {
		reply string
		want  Throttle
	}{
		// Exchange Online / Exchange Server.
		{"421 4.4.2 Message submission rate for this client has exceeded the configured limit", RateLimited},
		{"432 4.3.2 STOREDRV.ClientSubmit; sender thread limit exceeded", RateLimited},
		{"432 4.3.2 concurrent connection limit exceeded", RateLimited},
		{"421 4.3.2 The maximum number of concurrent connections has exceeded a limit, closing transmission channel", RateLimited},
		{"451 4.7.500 Server busy. Please try again later from [203.0.113.10]. (S77714) [BL6PEPF0001AB50.namprd04.prod.outlook.com 2024-07-14T14:44:43.083Z 08DCA36F759CD546]", RateLimited},
		{"451 4.7.650 The mail server [203.0.113.10] has been temporarily rate limited due to IP reputation. (S775)", RateLimited},
		{"450 4.7.699 Access denied, please try again later", RateLimited},
		{"554 5.2.0 STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception with message Cannot submit message.", QuotaExhausted},
		{"554 5.2.2 mailbox full; STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message due to a permanent exception", QuotaExhausted},
		{"550 5.2.2 Submission quota exceeded", QuotaExhausted},
		{"550 5.1.90 Your message can't be sent because you've reached your daily limit for message recipients", QuotaExhausted},
		// Gmail and Google Workspace (smtp.gmail.com, smtp-relay.gmail.com).
		{"421-4.7.0 Try again later, closing connection. (EHLO)\n421 4.7.0  https://support.google.com/a/answer/3221692 s1-20020a05620a - gsmtp", RateLimited},
		{"421 4.7.0 Temporary System Problem. Try again later (10). a12si345 - gsmtp", RateLimited},
		{"421-4.7.0 Our system has detected an unusual rate of unsolicited mail originating\n421-4.7.0 from your IP address. To protect our users from spam, mail sent from your IP\n421 4.7.0 address has been temporarily blocked. - gsmtp", RateLimited},
		{"421-4.7.28 Gmail has detected an unusual rate of unsolicited mail. To protect\n421-4.7.28 our users from spam, mail has been temporarily rate limited. Please\n421-4.7.28 visit https://support.google.com/mail/?p=UnsolicitedRateLimitError\n421 4.7.28 to review our Bulk Email Senders Guidelines. m17-20020a67f711si295017vso.199 - gsmtp", RateLimited},
		{"421 4.4.5 Server busy, try again later.", RateLimited},
		{"452 4.5.3 Your message has too many recipients. For more information regarding Google's sending limits, visit https://support.google.com/mail/answer/6592 - gsmtp", RateLimited},
		{"454 4.7.0 Too many login attempts, please try again later. https://support.google.com/mail/answer/7126229 - gsmtp", RateLimited},
		{"450 4.2.1 Peak SMTP relay limit exceeded for customer. This is a temporary error. - gsmtp", RateLimited},
		{"550-5.4.5 Daily user sending quota exceeded.\n550 5.4.5  https://support.google.com/a/answer/166852 a1-20020a17 - gsmtp", QuotaExhausted},
		{"550 5.4.5 Daily SMTP relay limit exceeded for customer. For more information on SMTP relay sending limits please contact your administrator - gsmtp", QuotaExhausted},
		// Amazon SES, hosting providers' policy servers, go-smtp itself.
		{"454 Throttling failure: Maximum sending rate exceeded.", RateLimited},
		{"454 Throttling failure: Daily message quota exceeded.", QuotaExhausted},
		{"550 5.4.5 <a@example.com>: Recipient address rejected: Domain Sending Quota Exceeded", QuotaExhausted},
		{"450 4.7.1 <a@example.org>: Sender address rejected: Deferring: Too many messages from sender in last 60", RateLimited},
		{"421 4.4.5 Too busy. Try again later.", RateLimited},

		// Not throttling: the message, the recipient or the account is at fault.
		{"550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown in virtual mailbox table", NotThrottled},
		{"550 5.1.1 RESOLVER.ADR.RecipNotFound; not found", NotThrottled},
		{"550-5.1.1 The email account that you tried to reach does not exist. Please try\n550-5.1.1 double-checking the recipient's email address for typos or\n550 5.1.1 unnecessary spaces. https://support.google.com/mail/?p=NoSuchUser - gsmtp", NotThrottled},
		{"554 5.7.1 <a@example.net>: Relay access denied", NotThrottled},
		{"550 5.7.708 Service unavailable. Access denied, traffic not accepted from this IP.", NotThrottled},
		{"550 5.7.750 Service unavailable. Client blocked from sending from unregistered domains.", NotThrottled},
		{"550 5.7.705 Access denied, tenant has exceeded threshold.", NotThrottled},
		{"550 5.7.501 Access denied, spam abuse detected.", NotThrottled},
		{"550 5.1.8 Access denied, bad outbound sender", NotThrottled},
		{"554 5.2.0 STOREDRV.Submission.Exception:OutboundSpamException; Failed to process message due to a permanent exception with message WASCL UserAction verdict is not None. Actual verdict is Suspend, ShowTierUpgrade.", NotThrottled},
		{"452-4.2.2 The email account that you tried to reach is over quota. Please direct\n452 4.2.2 the recipient to https://support.google.com/mail/?p=OverQuotaTemp - gsmtp", NotThrottled},
		{"552 5.2.2 <a@example.org>: Quota exceeded (mailbox for user is full)", NotThrottled},
		{"450-4.2.1 The user you are trying to contact is receiving mail too quickly.\n450 4.2.1 Please resend your message at a later time. - gsmtp", NotThrottled},
		{"450 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages from being delivered. - gsmtp", NotThrottled},
		{"421 4.7.0 IP not in whitelist for RCPT domain, closing connection.", NotThrottled},
		{"535 5.7.3 Authentication unsuccessful [BN0PR04CA0123.namprd04.prod.outlook.com]", NotThrottled},
		{"530 5.7.57 Client not authenticated to send mail. [AM6PR0732BE0065.eurprd07.prod.outlook.com]", NotThrottled},
		{"451 4.3.0 Mail server temporarily rejected message. - gsmtp", NotThrottled},
		{"451 4.4.2 Timeout - closing connection. - gsmtp", NotThrottled},
		{"452 4.3.1 Insufficient system storage", NotThrottled},
		{"554 5.6.0 Corrupt message content", NotThrottled},
	}
	for _, tt := range tests {
		if got := Throttling(reply(t, tt.reply)); got != tt.want {
			t.Errorf("Throttling(%q) = %v, want %v", tt.reply, got, tt.want)
		}
	}
	for _, err := range []error{nil, errors.New("dial tcp: connection refused"), context.DeadlineExceeded} {
		if IsThrottled(err) {
			t.Errorf("IsThrottled(%v) = true, want false", err)
		}
	}
}

// Through a real server: the reply's enhanced code and text reach the
// caller, and a throttling 5xx is not permanent.
func TestThrottledRepliesFromServer(t *testing.T) {
	s := startSink(t)
	ctx := context.Background()
	env := Envelope{From: "x@example.org", To: []string{"b@example.org"}}
	send := func() error {
		t.Helper()
		c, err := New(sinkConfig(s), nil).Dial(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		return c.Send(ctx, env, []byte(testMsg))
	}
	tests := []struct {
		at        smtptest.Stage
		reply     *smtp.SMTPError
		want      Throttle
		permanent bool
	}{
		{smtptest.AtMail, &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2},
			Message: "Message submission rate for this client has exceeded the configured limit"}, RateLimited, false},
		{smtptest.AtData, &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 2, 0},
			Message: "STOREDRV.Submission.Exception:SubmissionQuotaExceededException; Failed to process message"}, QuotaExhausted, false},
		{smtptest.AtMail, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 4, 5},
			Message: "Daily user sending quota exceeded.\n https://support.google.com/a/answer/166852 - gsmtp"}, QuotaExhausted, false},
		{smtptest.AtRcpt, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "user unknown"}, NotThrottled, true},
	}
	for _, tt := range tests {
		s.FailAfter(0, tt.at, tt.reply)
		err := send()
		var se *Error
		if !errors.As(err, &se) || se.Throttle != tt.want || Throttling(err) != tt.want || se.Permanent != tt.permanent ||
			IsTemporary(err) == tt.permanent {
			t.Errorf("reply %d %v %q: err %v; throttle %v, permanent %v; want %v, %v", tt.reply.Code, tt.reply.EnhancedCode,
				tt.reply.Message, err, Throttling(err), se != nil && se.Permanent, tt.want, tt.permanent)
			continue
		}
		if want := fmt.Sprintf("%d.%d.%d", tt.reply.EnhancedCode[0], tt.reply.EnhancedCode[1], tt.reply.EnhancedCode[2]); se.Enhanced != want {
			t.Errorf("Enhanced = %q, want %q", se.Enhanced, want)
		}
	}
	s.FailAfter(0, smtptest.AtMail, nil)

	// Gmail turns a client away at EHLO: Dial fails, throttled.
	s.Refuse(&smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0}, Message: "Try again later, closing connection. (EHLO)"})
	_, err := New(sinkConfig(s), nil).Dial(ctx)
	if Throttling(err) != RateLimited {
		t.Errorf("Dial refused at EHLO: err %v, throttle %v; want rate limited", err, Throttling(err))
	}
	s.Refuse(nil)
	if err := send(); err != nil {
		t.Errorf("send after the faults cleared = %v", err)
	}
}
