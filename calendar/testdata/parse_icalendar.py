"""Read mentord calendar objects with python3-icalendar (Debian package).

Used by calendar/external_test.go. stdin: JSON list of {"name", "ics"}; stdout:
JSON list of the fields parsed from each (see type parsed in helpers_test.go).
Exit status 3 when icalendar is not installed.
"""
import json
import sys

try:
    import icalendar
except ImportError as exc:
    print("python3-icalendar is not installed: %s" % exc, file=sys.stderr)
    sys.exit(3)


def text(comp, name):
    v = comp.get(name)
    return "" if v is None else str(v)


def utc(comp, name):
    v = comp.get(name)
    if v is None:
        raise ValueError("%s missing" % name)
    dt = v.dt
    if getattr(dt, "tzinfo", None) is None or dt.utcoffset().total_seconds() != 0:
        raise ValueError("%s is not a UTC date-time: %r" % (name, dt))
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def party(prop):
    email = str(prop)
    if email.lower().startswith("mailto:"):
        email = email[7:]
    p = prop.params
    return {"email": email, "cn": p.get("CN", ""), "cutype": p.get("CUTYPE", ""),
            "role": p.get("ROLE", ""), "partstat": p.get("PARTSTAT", ""),
            "rsvp": p.get("RSVP", "")}


def parse(sample):
    out = {"name": sample["name"], "parser": "python3-icalendar " + icalendar.__version__}
    cal = icalendar.Calendar.from_ical(sample["ics"].encode("utf-8"))
    events = [c for c in cal.walk("VEVENT")]
    errors = list(cal.errors) + [e for ev in events for e in ev.errors]
    if errors:
        raise ValueError("parse errors: %r" % errors)
    out.update(prodid=text(cal, "PRODID"), version=text(cal, "VERSION"),
               calscale=text(cal, "CALSCALE"), method=text(cal, "METHOD"),
               events=len(events))
    ev = events[0]
    atts = ev.get("ATTENDEE", [])
    if not isinstance(atts, list):
        atts = [atts]
    out.update(uid=text(ev, "UID"), sequence=int(ev.get("SEQUENCE", 0)),
               stamp=utc(ev, "DTSTAMP"), start=utc(ev, "DTSTART"), end=utc(ev, "DTEND"),
               summary=text(ev, "SUMMARY"), description=text(ev, "DESCRIPTION"),
               location=text(ev, "LOCATION"), status=text(ev, "STATUS"),
               transp=text(ev, "TRANSP"), organizer=party(ev["ORGANIZER"]),
               attendees=[party(a) for a in atts])
    return out


def main():
    results = []
    for sample in json.load(sys.stdin):
        try:
            results.append(parse(sample))
        except Exception as exc:  # report, keep going with the next sample
            results.append({"name": sample["name"], "error": "%s: %s" % (type(exc).__name__, exc)})
    json.dump(results, sys.stdout, ensure_ascii=False)


main()
