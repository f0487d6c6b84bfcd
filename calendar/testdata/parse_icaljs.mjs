// Read mentord calendar objects with Mozilla ical.js (Thunderbird's parser).
//
// Used by calendar/external_test.go. stdin: JSON list of {name, ics}; stdout:
// JSON list of the fields parsed from each (see type parsed in helpers_test.go).
// Exit status 3 when ical.js is not installed (npm ci --prefix calendar/testdata).
import fs from 'node:fs';

let ICAL;
try {
  ICAL = (await import('ical.js')).default;
} catch (e) {
  process.stderr.write('ical.js is not installed: ' + e.message + '\n');
  process.exit(3);
}
let version = 'unknown';
try {
  version = JSON.parse(fs.readFileSync(
    new URL('./node_modules/ical.js/package.json', import.meta.url), 'utf8')).version;
} catch { /* installed elsewhere */ }

const str = (v) => (v === null || v === undefined ? '' : String(v));

function utc(ve, name) {
  const t = ve.getFirstPropertyValue(name);
  if (!t) throw new Error(name + ' missing');
  if (t.isDate || !t.zone || t.zone.tzid !== 'UTC') throw new Error(name + ' is not a UTC date-time: ' + t.toString());
  return new Date(t.toUnixTime() * 1000).toISOString().replace('.000Z', 'Z');
}

function party(prop) {
  let email = str(prop.getFirstValue());
  if (email.toLowerCase().startsWith('mailto:')) email = email.slice(7);
  const p = (n) => str(prop.getParameter(n));
  return { email, cn: p('cn'), cutype: p('cutype'), role: p('role'), partstat: p('partstat'), rsvp: p('rsvp').toUpperCase() };
}

function parse({ name, ics }) {
  const vcal = new ICAL.Component(ICAL.parse(ics));
  const events = vcal.getAllSubcomponents('vevent');
  const ve = events[0];
  const org = ve.getFirstProperty('organizer');
  return {
    name, parser: 'ical.js ' + version,
    prodid: str(vcal.getFirstPropertyValue('prodid')), version: str(vcal.getFirstPropertyValue('version')),
    calscale: str(vcal.getFirstPropertyValue('calscale')), method: str(vcal.getFirstPropertyValue('method')),
    events: events.length,
    uid: str(ve.getFirstPropertyValue('uid')), sequence: ve.getFirstPropertyValue('sequence') ?? 0,
    stamp: utc(ve, 'dtstamp'), start: utc(ve, 'dtstart'), end: utc(ve, 'dtend'),
    summary: str(ve.getFirstPropertyValue('summary')), description: str(ve.getFirstPropertyValue('description')),
    location: str(ve.getFirstPropertyValue('location')), status: str(ve.getFirstPropertyValue('status')),
    transp: str(ve.getFirstPropertyValue('transp')),
    organizer: org ? party(org) : {}, attendees: ve.getAllProperties('attendee').map(party),
  };
}

const results = JSON.parse(fs.readFileSync(0, 'utf8')).map((s) => {
  try {
    return parse(s);
  } catch (e) {
    return { name: s.name, error: String(e && e.stack || e) };
  }
});
process.stdout.write(JSON.stringify(results));
