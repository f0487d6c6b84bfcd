package devserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// ErrNotLoopback is returned by Start when a listen address is not a loopback
// address.
var ErrNotLoopback = errors.New("the dev mail server is for development only and must stay on loopback " +
	"(127.0.0.0/8, ::1 or localhost): it accepts any password and keeps mail in memory")

// resolveTimeout bounds the lookup of a listen address's host name.
const resolveTimeout = 5 * time.Second

// loopbackAddr checks that every address the host of addr resolves to is a
// loopback address and returns host:port with the host replaced by one of
// them (IPv4 first), so that the listener binds exactly what was checked.
func loopbackAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%q: %w (want host:port, e.g. 127.0.0.1:2525)", addr, err)
	}
	if host == "" {
		return "", fmt.Errorf("%q has no host, which means every interface: %w", addr, ErrNotLoopback)
	}
	ips, err := resolve(host)
	if err != nil {
		return "", fmt.Errorf("%q: %w", addr, err)
	}
	for _, ip := range ips {
		if !ip.IsLoopback() {
			return "", fmt.Errorf("%q means %s: %w", addr, ip, ErrNotLoopback)
		}
	}
	bind := ips[0]
	for _, ip := range ips {
		if ip.To4() != nil {
			bind = ip
			break
		}
	}
	return net.JoinHostPort(bind.String(), port), nil
}

// resolve returns the IP addresses of host, which may be an IP literal.
func resolve(host string) ([]net.IP, error) {
	if ip := net.ParseIP(host); ip != nil {
		return []net.IP{ip}, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), resolveTimeout)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	if len(addrs) == 0 {
		return nil, fmt.Errorf("resolve %s: no addresses", host)
	}
	ips := make([]net.IP, len(addrs))
	for i, a := range addrs {
		ips[i] = a.IP
	}
	return ips, nil
}

// parseAddr checks that s is a plain mailbox address, a dot-atom local part
// and a domain name or address literal (RFC 5321 section 4.1.2, ASCII only),
// and returns it lower-cased: that is the mailbox's user name.
func parseAddr(s string) (string, error) {
	if len(s) > 254 {
		return "", errors.New("address is longer than 254 characters")
	}
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return "", errors.New("address has no @")
	}
	local, domain := s[:at], s[at+1:]
	if !isDotAtom(local) || len(local) > 64 {
		return "", fmt.Errorf("invalid local part %q", local)
	}
	if !isDomain(domain) {
		return "", fmt.Errorf("invalid domain %q", domain)
	}
	return strings.ToLower(s), nil
}

// isDotAtom reports whether s is a dot-atom (RFC 5322 section 3.2.3).
func isDotAtom(s string) bool {
	for _, atom := range strings.Split(s, ".") {
		if atom == "" {
			return false
		}
		for _, c := range []byte(atom) {
			isAlnum := 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
			if !isAlnum && !strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", rune(c)) {
				return false
			}
		}
	}
	return true
}

// isDomain reports whether s is a host name or an address literal such as
// [127.0.0.1] or [IPv6:::1] (RFC 5321 sections 4.1.2 and 4.1.3).
func isDomain(s string) bool {
	if lit, ok := strings.CutPrefix(s, "["); ok {
		lit, ok = strings.CutSuffix(lit, "]")
		v6, isV6 := strings.CutPrefix(lit, "IPv6:")
		ip := net.ParseIP(v6)
		return ok && ip != nil && isV6 == (ip.To4() == nil)
	}
	if s == "" || len(s) > 253 {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range []byte(label) {
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}
