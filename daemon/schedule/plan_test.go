package schedule

import (
	"testing"
	"time"
)

func mustLoc(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

func TestParseCadence(t *testing.T) {
	for in, want := range map[string]Cadence{
		"monthly": {Months: 1}, "Monthly": {Months: 1}, "2w": {Days: 14}, "4w": {Days: 28}, "weekly": {Days: 7},
		"fortnightly": {Days: 14}, "biweekly": {Days: 14}, "10d": {Days: 10}, "2m": {Months: 2}, "quarterly": {Months: 3},
	} {
		got, err := ParseCadence(in)
		if err != nil || got != want {
			t.Errorf("ParseCadence(%q) = %v, %v, want %v", in, got, err, want)
		}
		if back, err := ParseCadence(got.String()); err != nil || back != got {
			t.Errorf("ParseCadence(%q.String() = %q) = %v, %v", in, got.String(), back, err)
		}
	}
	for _, bad := range []string{"", "w", "0w", "-2w", "2x", "yearly", "30w", "12m", "2.5w"} {
		if _, err := ParseCadence(bad); err == nil {
			t.Errorf("ParseCadence(%q) accepted", bad)
		}
	}
}

// A monthly series keeps its local time across the EU change to and from summer time.
func TestPlanMonthlyAcrossDST(t *testing.T) {
	cph := mustLoc(t, "Europe/Copenhagen")
	first, err := ParseLocal("2027-01-12T14:00", cph)
	if err != nil {
		t.Fatal(err)
	}
	plan := Plan(first, Cadence{Months: 1}, 12, 4)
	if len(plan) != 12 {
		t.Fatalf("len = %d", len(plan))
	}
	// The 12th, but for a weekend: Saturday 12 June moves to Friday the
	// 11th, Sundays 12 September and 12 December to Monday the 13th.
	moved := map[int]int{6: 11, 9: 13, 12: 13}
	for i, p := range plan {
		day := 12
		if d, ok := moved[p.Number]; ok {
			day = d
		}
		if p.Start.Hour() != 14 || p.Start.Minute() != 0 || p.Start.Day() != day || p.Start.Month() != time.Month(i+1) || Weekend(p.Start) {
			t.Errorf("session %d at %v, want the %dth at 14:00 local", p.Number, p.Start, day)
		}
	}
	// UTC hour moves with summer time: 13:00Z in January, 12:00Z in July.
	if h := plan[0].Start.UTC().Hour(); h != 13 {
		t.Errorf("January session at %d:00Z", h)
	}
	if h := plan[6].Start.UTC().Hour(); h != 12 {
		t.Errorf("July session at %d:00Z", h)
	}
	want := []Kind{Chemistry, Regular, Regular, Review, Regular, Regular, Regular, Review, Regular, Regular, Regular, Final}
	for i, p := range plan {
		if p.Kind != want[i] {
			t.Errorf("session %d kind %s, want %s", p.Number, p.Kind, want[i])
		}
	}
}

func TestPlanFortnightlyAcrossUSDST(t *testing.T) {
	ny := mustLoc(t, "America/New_York")
	first, _ := ParseLocal("2027-02-25T09:30", ny)
	plan := Plan(first, Cadence{Days: 14}, 4, 0)
	// US summer time starts 14 March 2027.
	wantUTC := []int{14, 14, 13, 13}
	for i, p := range plan {
		if p.Start.Hour() != 9 || p.Start.Minute() != 30 {
			t.Errorf("session %d at %v local", p.Number, p.Start)
		}
		if p.Start.UTC().Hour() != wantUTC[i] {
			t.Errorf("session %d at %v UTC, want %d:30Z", p.Number, p.Start.UTC(), wantUTC[i])
		}
	}
	if plan[3].Kind != Final || plan[1].Kind != Regular {
		t.Errorf("kinds with no reviews: %v", plan)
	}
}

func TestMonthlyFromMonthEnd(t *testing.T) {
	first := time.Date(2027, 1, 31, 10, 0, 0, 0, time.UTC)
	c := Cadence{Months: 1}
	// Sunday 28 February 2027 moves to the Friday before, in its own month;
	// Sunday 31 October to the Friday before too.
	for n, want := range map[int]string{1: "2027-02-26", 2: "2027-03-31", 3: "2027-04-30", 9: "2027-10-29", 13: "2028-02-29"} {
		if got := c.Nth(first, n).Format("2006-01-02"); got != want {
			t.Errorf("Nth(31 Jan, %d) = %s, want %s", n, got, want)
		}
	}
}

// Weekends move to the nearest weekday of the same month; the first session
// stays where it was put.
func TestMonthlyWeekendsMove(t *testing.T) {
	c := Cadence{Months: 1}
	first := time.Date(2027, 5, 1, 10, 0, 0, 0, time.UTC) // a Saturday
	for n, want := range map[int]string{0: "2027-05-01", 1: "2027-06-01", 4: "2027-09-01", 7: "2027-12-01", 12: "2028-05-01"} {
		if got := c.Nth(first, n).Format("2006-01-02 Mon"); got[:10] != want {
			t.Errorf("Nth(1 May, %d) = %s, want %s", n, got, want)
		}
	}
	// Saturday 1 January 2028 cannot go back a month: Monday the 3rd.
	if got := c.Nth(time.Date(2027, 12, 1, 10, 0, 0, 0, time.UTC), 1).Format("2006-01-02"); got != "2028-01-03" {
		t.Errorf("1 January 2028 = %s, want 2028-01-03", got)
	}
	for n := 1; n < 60; n++ {
		if d := c.Nth(first, n); Weekend(d) {
			t.Errorf("Nth(%d) = %v, a weekend", n, d)
		}
	}
}

// monthly-weekday keeps the weekday and its place in the month.
func TestMonthlyWeekday(t *testing.T) {
	c, err := ParseCadence("monthly-weekday")
	if err != nil || c != (Cadence{Months: 1, Weekday: true}) || c.String() != "monthly-weekday" {
		t.Fatalf("ParseCadence(monthly-weekday) = %+v, %v", c, err)
	}
	cph := mustLoc(t, "Europe/Copenhagen")
	first := time.Date(2027, 1, 5, 14, 0, 0, 0, cph) // the first Tuesday of January
	for n, want := range map[int]string{0: "2027-01-05", 1: "2027-02-02", 2: "2027-03-02", 3: "2027-04-06", 7: "2027-08-03", 11: "2027-12-07"} {
		got := c.Nth(first, n)
		if got.Format("2006-01-02") != want || got.Weekday() != time.Tuesday || got.Hour() != 14 {
			t.Errorf("first Tuesday, Nth(%d) = %v, want %s 14:00", n, got, want)
		}
	}
	// A fifth Friday (29 January) is the month's last Friday.
	last := time.Date(2027, 1, 29, 9, 0, 0, 0, time.UTC)
	for n, want := range map[int]string{1: "2027-02-26", 2: "2027-03-26", 3: "2027-04-30"} {
		if got := c.Nth(last, n).Format("2006-01-02"); got != want {
			t.Errorf("last Friday, Nth(%d) = %s, want %s", n, got, want)
		}
	}
}

func TestParseLocal(t *testing.T) {
	cph := mustLoc(t, "Europe/Copenhagen")
	for _, ok := range []string{"2027-01-12T14:00", "2027-01-12 14:00", "2027-01-12T14:00:00"} {
		if _, err := ParseLocal(ok, cph); err != nil {
			t.Errorf("ParseLocal(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "2027-01-12", "12/01/2027 14:00", "2027-01-12T14:00Z", "2027-01-12T14:00+01:00", "2027-02-30T10:00", "2027-01-12T25:00"} {
		if _, err := ParseLocal(bad, cph); err == nil {
			t.Errorf("ParseLocal(%q) accepted", bad)
		}
	}
	// 02:30 on 28 March 2027 does not exist in Copenhagen.
	if _, err := ParseLocal("2027-03-28T02:30", cph); err == nil {
		t.Error("a time in the spring-forward gap was accepted")
	}
}
