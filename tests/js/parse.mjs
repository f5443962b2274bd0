// Read one iCalendar object on stdin and print, as JSON, what ical.js (the parser Thunderbird
// uses) makes of its event. Times are converted to UTC through the VTIMEZONE embedded in the
// object itself: no other zone is registered, so a wrong VTIMEZONE gives a wrong instant.
import ICAL from "ical.js";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const text = Buffer.concat(chunks).toString("utf8");

const calendar = new ICAL.Component(ICAL.parse(text));
const zones = [];
for (const vtimezone of calendar.getAllSubcomponents("vtimezone")) {
  const zone = new ICAL.Timezone(vtimezone);
  ICAL.TimezoneService.register(zone);
  zones.push(zone.tzid);
}
const vevents = calendar.getAllSubcomponents("vevent");
const vevent = vevents[0];
const event = new ICAL.Event(vevent);
const utc = (time) => time.convertToZone(ICAL.Timezone.utcTimezone).toString();
const person = (prop) =>
  prop && {
    value: prop.getFirstValue(),
    params: Object.fromEntries(
      Object.entries(prop.toJSON()[1]).filter(([name]) => name !== "value"),
    ),
  };
const text1 = (name) => vevent.getFirstPropertyValue(name);

process.stdout.write(
  JSON.stringify({
    method: calendar.getFirstPropertyValue("method"),
    version: calendar.getFirstPropertyValue("version"),
    prodid: calendar.getFirstPropertyValue("prodid"),
    events: vevents.length,
    timezones: zones,
    uid: event.uid,
    sequence: event.sequence,
    summary: event.summary,
    location: event.location,
    description: event.description,
    status: text1("status"),
    transp: text1("transp"),
    url: text1("url"),
    conference: text1("conference"),
    start_tzid: event.startDate.zone ? event.startDate.zone.tzid : null,
    start: utc(event.startDate),
    end: utc(event.endDate),
    dtstamp: utc(text1("dtstamp")),
    organizer: person(vevent.getFirstProperty("organizer")),
    attendees: vevent.getAllProperties("attendee").map(person),
    alarms: vevent.getAllSubcomponents("valarm").length,
    all: vevents.map((one) => {
      const each = new ICAL.Event(one);
      return {
        uid: each.uid,
        sequence: each.sequence,
        summary: each.summary,
        status: one.getFirstPropertyValue("status"),
        start: utc(each.startDate),
        end: utc(each.endDate),
        attendees: one.getAllProperties("attendee").length,
      };
    }),
  }) + "\n",
);
