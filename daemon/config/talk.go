package config

import "time"

// The conversation's settings (issue 13): who agrees a proposed new time,
// how long the other person has to answer, and how often the admin hears
// what needs a person.

// The programme.rescheduling values.
const (
	ReschedulePair  = "pair"
	RescheduleAdmin = "admin"
)

// The programme.admin_digest values.
const (
	DigestDaily  = "daily"
	DigestWeekly = "weekly"
	DigestOff    = "off"
)

func (c *Config) talkDefaults() {
	c.Programme.Rescheduling = cmpOr(c.Programme.Rescheduling, ReschedulePair)
	c.Programme.AdminDigest = cmpOr(c.Programme.AdminDigest, DigestDaily)
	c.Timings.MoveWait = cmpOr(c.Timings.MoveWait, Duration(72*time.Hour))
	c.Timings.AgreementWithin = cmpOr(c.Timings.AgreementWithin, Duration(30*24*time.Hour))
}

func (k *checker) talk() {
	p, t := k.c.Programme, k.c.Timings
	if p.Rescheduling != ReschedulePair && p.Rescheduling != RescheduleAdmin {
		k.errorf("programme.rescheduling", "must be pair (mentord asks the other person) or admin (the admin moves sessions), not %q", p.Rescheduling)
	}
	if p.AdminDigest != DigestDaily && p.AdminDigest != DigestWeekly && p.AdminDigest != DigestOff {
		k.errorf("programme.admin_digest", "must be daily, weekly or off, not %q", p.AdminDigest)
	}
	if d := t.MoveWait.D(); d < time.Hour || d > 30*24*time.Hour {
		k.errorf("timings.move_wait", "must be between 1h and 30d")
	}
	if d := t.AgreementWithin.D(); d < 24*time.Hour || d > 365*24*time.Hour {
		k.errorf("timings.agreement_within", "must be between 1d and 365d")
	}
}

// PairReschedules reports whether a proposed new time is asked of the other
// person (rescheduling: pair) rather than passed to the admin.
func (c *Config) PairReschedules() bool { return c.Programme.Rescheduling != RescheduleAdmin }
