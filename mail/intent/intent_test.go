package intent

import (
	"slices"
	"testing"
	"time"
)

func TestRead(t *testing.T) {
	for _, c := range []struct {
		text     string
		want     []Request
		answer   Answer
		declines bool
	}{
		{"Please pause my mentoring, I'm on parental leave until March.", []Request{Pause}, "", false},
		{"Hej, kan I sætte mit mentorforløb på pause? Jeg går på barsel til 1. marts.", []Request{Pause}, "", false},
		{"I'm back from leave and ready to start again.", []Request{Resume}, "", false},
		{"Jeg er tilbage fra barsel, vi kan godt genoptage forløbet.", []Request{Resume}, "", false},
		{"Sorry, I'm at a conference, can we do the 14th?", []Request{Move}, "", false},
		{"Kan vi flytte mødet til tirsdag den 14. januar kl. 15?", []Request{Move}, "", false},
		{"Can you send me what I wrote so far?", []Request{Log}, "", false},
		{"Vil I sende mig hvad jeg har skrevet indtil nu?", []Request{Log}, "", false},
		{"I would like to withdraw from the programme.", []Request{Stop}, "", false},
		{"Jeg vil gerne melde mig ud af mentorordningen.", []Request{Stop}, "", false},
		{"I don't want to stop taking part, just checking in.", nil, "", false},
		{"Quick update: the grant went in!", nil, "", false},
		{"Yes, that works for me.", nil, Yes, false},
		{"Ja, det passer fint.", nil, Yes, false},
		{"No, sorry, I can't make that.", nil, No, true},
		{"Nej, det passer ikke.", nil, No, false},
		{"I can't make it on the 12th, I'm travelling.", nil, No, true},
		{"Jeg kan desværre ikke komme.", nil, "", true},
	} {
		r := Read(c.text)
		if !slices.Equal(r.Requests, c.want) || r.Answer != c.answer || r.Declines != c.declines {
			t.Errorf("Read(%q) = %+v, want requests %v answer %q declines %v", c.text, r, c.want, c.answer, c.declines)
		}
	}
}

func TestFindWhen(t *testing.T) {
	cph, _ := time.LoadLocation("Europe/Copenhagen")
	now := time.Date(2027, 1, 8, 10, 0, 0, 0, cph)      // a Friday
	session := time.Date(2027, 1, 12, 14, 0, 0, 0, cph) // Tuesday 12 January, 14:00
	at := func(m time.Month, d, h, mi int) time.Time { return time.Date(2027, m, d, h, mi, 0, 0, cph) }
	for _, c := range []struct {
		text    string
		danish  bool
		want    time.Time
		unclear bool
	}{
		{"can we do Thursday the 14th at 3pm instead?", false, at(1, 14, 15, 0), false},
		{"Tuesday the 14th at 3pm", false, at(1, 14, 15, 0), true}, // the 14th is a Thursday
		{"the 14th at 15:00", false, at(1, 14, 15, 0), false},
		{"can we do the 14th?", false, at(1, 14, 14, 0), false},
		{"14/1 kl. 15", true, at(1, 14, 15, 0), false},
		{"tirsdag den 19. januar kl. 15.00", true, at(1, 19, 15, 0), false},
		{"Kan vi tage den 14. januar kl. 10 i stedet?", true, at(1, 14, 10, 0), false},
		{"next Monday 10:00", false, at(1, 11, 10, 0), false},
		{"at 3 on the 14th", false, at(1, 14, 3, 0), true},
		{"2/3 at 10:00", false, at(3, 2, 10, 0), true},
		{"could we move it to 16:00 the same day", false, at(1, 12, 16, 0), false},
		{"I can't on the 12th, the 14th or 15th work", false, at(1, 14, 14, 0), true},
		{"some time next week?", false, time.Time{}, true},
		{"January 20 at 9am", false, at(1, 20, 9, 0), false},
		{"i morgen kl. 9", true, at(1, 9, 9, 0), false},
	} {
		w, ok := FindWhen(c.text, now, cph, session, c.danish)
		if !ok || (!c.want.IsZero() && !w.Start.Equal(c.want)) || (w.Unclear != "") != c.unclear {
			t.Errorf("FindWhen(%q) = %v %q %v, want %v unclear %v", c.text, w.Start, w.Unclear, ok, c.want, c.unclear)
		}
	}
	if _, ok := FindWhen("Quick update: the grant went in!", now, cph, session, false); ok {
		t.Errorf("FindWhen found a date in a text without one")
	}
}

func TestFindUntil(t *testing.T) {
	cph, _ := time.LoadLocation("Europe/Copenhagen")
	now := time.Date(2027, 1, 8, 10, 0, 0, 0, cph)
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, cph) }
	for _, c := range []struct {
		text string
		want time.Time
	}{
		{"please pause my mentoring, I'm on parental leave until March", day(2027, 3, 1)},
		{"Jeg er på barsel indtil 1. april", day(2027, 4, 1)},
		{"kan vi holde pause til udgangen af februar?", day(2027, 3, 1)},
		{"pause until the 20th of January please", day(2027, 1, 20)},
		{"Can we put it on hold for three months?", day(2027, 4, 8)},
		{"sæt forløbet på pause i 6 uger", day(2027, 2, 19)},
	} {
		got, ok := FindUntil(c.text, now, cph, false)
		if !ok || !got.Equal(c.want) {
			t.Errorf("FindUntil(%q) = %v %v, want %v", c.text, got, ok, c.want)
		}
	}
	if _, ok := FindUntil("please pause my mentoring", now, cph, false); ok {
		t.Errorf("FindUntil found an end where none is written")
	}
}
