/**
 * Dates, times and time zones (Trino functions/datetime.md). Athena's session time zone is
 * UTC. Fixture instants: r01 2026-11-21 22:10:00.000 (a Saturday), r08 2026-11-22 12:00:00.000
 * (a Sunday, epoch 1795348800), r11 2026-11-22 23:59:59.999. New York is UTC-5 in November
 * (DST ended 2026-11-01) and UTC-4 in July.
 */
import type { Case } from './fixture.js';

export const cases: readonly Case[] = [
  {
    name: 'dates: request_time is a timestamp(3)',
    sql: `SELECT request_time FROM iris_payload WHERE request_id = 'r11'`,
    rule: 'the Glue timestamp column reads as timestamp(3), rendered with milliseconds',
    expected: [{ request_time: '2026-11-22 23:59:59.999' }],
  },
  {
    name: 'dates: AT TIME ZONE on a timestamp literal',
    sql: `SELECT hour(TIMESTAMP '2026-11-22 12:00:00' AT TIME ZONE 'America/New_York') AS h, date_format(TIMESTAMP '2026-11-22 12:00:00' AT TIME ZONE 'America/New_York', '%Y-%m-%d %H:%i') AS local_time`,
    rule: 'AT TIME ZONE: a timestamp without zone is taken in the session zone (UTC), then shown in the target zone: 12:00 UTC is 07:00 EST',
    expected: [{ h: 7, local_time: '2026-11-22 07:00' }],
  },
  {
    name: 'dates: AT TIME ZONE on request_time',
    sql: `SELECT hour(request_time AT TIME ZONE 'America/New_York') AS h FROM iris_payload WHERE request_id = 'r08'`,
    rule: 'AT TIME ZONE on a timestamp column, session zone UTC',
    expected: [{ h: 7 }],
  },
  {
    name: 'dates: AT TIME ZONE follows daylight saving time',
    sql: `SELECT hour(TIMESTAMP '2026-07-01 12:00:00' AT TIME ZONE 'America/New_York') AS h`,
    rule: 'IANA zone rules: New York is UTC-4 in July',
    expected: [{ h: 8 }],
  },
  {
    name: 'dates: requests per New York day',
    sql: `SELECT CAST(request_time AT TIME ZONE 'America/New_York' AS DATE) AS ny_date, count(*) AS n FROM iris_payload GROUP BY 1`,
    rule: 'CAST(timestamp with time zone AS DATE) takes the local date: r05 and r06 (after 00:00 UTC) are still 2026-11-21 in New York',
    expected: [{ ny_date: '2026-11-21', n: 6 }, { ny_date: '2026-11-22', n: 6 }],
  },
  {
    name: 'dates: a timestamp literal with a zone, read in UTC',
    sql: `SELECT hour(TIMESTAMP '2026-11-22 12:00:00 America/New_York' AT TIME ZONE 'UTC') AS utc_h`,
    rule: "TIMESTAMP '... zone' is a timestamp with time zone; 12:00 EST is 17:00 UTC",
    expected: [{ utc_h: 17 }],
  },
  {
    name: 'dates: a zoned value keeps its zone',
    sql: `SELECT hour(TIMESTAMP '2026-11-22 12:00:00 America/New_York') AS h, timezone_hour(TIMESTAMP '2026-11-22 12:00:00 America/New_York') AS offset_h`,
    rule: "a timestamp with time zone keeps its zone: hour() reads the wall clock there (12), timezone_hour its offset (-5, EST)",
    expected: [{ h: 12, offset_h: -5 }],
  },
  {
    name: 'dates: with_timezone keeps the wall clock',
    sql: `SELECT to_unixtime(with_timezone(TIMESTAMP '2026-11-22 12:00:00', 'America/New_York')) AS epoch, hour(with_timezone(TIMESTAMP '2026-11-22 12:00:00', 'America/New_York')) AS h`,
    rule: 'with_timezone(timestamp, zone) attaches the zone to the same local time: 12:00 EST = 17:00 UTC',
    expected: [{ epoch: 1795366800, h: 12 }],
  },
  {
    name: 'dates: AT TIME ZONE keeps the instant: comparisons and epochs are unchanged',
    sql: `SELECT count_if(request_time AT TIME ZONE 'America/New_York' >= TIMESTAMP '2026-11-22 00:00:00') AS since, max(to_unixtime(request_time AT TIME ZONE 'America/New_York') - to_unixtime(request_time)) AS shift, typeof(max(request_time AT TIME ZONE 'America/New_York')) AS t FROM iris_payload`,
    rule: 'AT TIME ZONE gives a timestamp with time zone: the same instant (8 requests on or after 2026-11-22 00:00 UTC), read in the zone',
    expected: [{ since: 8, shift: 0, t: 'timestamp(3) with time zone' }],
  },
  {
    name: 'dates: a day added to a zoned value crosses a DST change on the wall clock',
    sql: `SELECT CAST(date_add('day', 1, TIMESTAMP '2026-11-01 00:30:00 America/New_York') AS VARCHAR) AS next_day`,
    rule: 'date_add on a timestamp with time zone adds in its zone: 00:30 EDT + 1 day is 00:30 EST the next day',
    expected: [{ next_day: '2026-11-02 00:30:00.000 America/New_York' }],
  },
  {
    name: 'dates: the session time zone is UTC',
    sql: `SELECT current_timezone() AS tz`,
    rule: 'current_timezone(); Athena runs queries in UTC',
    expected: [{ tz: 'UTC' }],
  },
  {
    name: 'dates: date_trunc to the hour',
    sql: `SELECT date_trunc('hour', request_time) AS hour_start, count(*) AS n FROM iris_payload WHERE "date" = '2026-11-21' GROUP BY 1`,
    rule: 'date_trunc(unit, x) returns the same type (timestamp(3))',
    expected: [{ hour_start: '2026-11-21 22:00:00.000', n: 2 }, { hour_start: '2026-11-21 23:00:00.000', n: 2 }],
  },
  {
    name: 'dates: date_trunc to day, week and month',
    sql: `SELECT date_trunc('day', request_time) AS day_start, date_trunc('week', DATE '2026-11-22') AS week_start, date_trunc('month', DATE '2026-11-22') AS month_start FROM iris_payload WHERE request_id = 'r11'`,
    rule: 'date_trunc: weeks start on Monday (2026-11-16); a DATE stays a DATE',
    expected: [{ day_start: '2026-11-22 00:00:00.000', week_start: '2026-11-16', month_start: '2026-11-01' }],
  },
  {
    name: 'dates: day_of_week is ISO (Monday 1 .. Sunday 7)',
    sql: `SELECT day_of_week(DATE '2026-11-22') AS sunday, dow(DATE '2026-11-21') AS saturday`,
    rule: 'day_of_week(x) returns the ISO day of the week, 1 (Monday) to 7 (Sunday); dow is an alias',
    expected: [{ sunday: 7, saturday: 6 }],
  },
  {
    name: 'dates: requests per weekday',
    sql: `SELECT day_of_week(request_time) AS weekday, count(*) AS n FROM iris_payload GROUP BY 1`,
    rule: 'day_of_week of a timestamp: 2026-11-21 is a Saturday (6), 2026-11-22 a Sunday (7)',
    expected: [{ weekday: 6, n: 4 }, { weekday: 7, n: 8 }],
  },
  {
    name: 'dates: format_datetime with Joda patterns',
    sql: `SELECT format_datetime(request_time, 'yyyy-MM-dd HH:mm') AS stamp, format_datetime(request_time, 'EEEE, MMMM d') AS spoken FROM iris_payload WHERE request_id = 'r08'`,
    rule: 'format_datetime(timestamp, format) uses JodaTime DateTimeFormat patterns',
    expected: [{ stamp: '2026-11-22 12:00', spoken: 'Sunday, November 22' }],
  },
  {
    name: 'dates: date_format with MySQL letters',
    sql: `SELECT date_format(request_time, '%Y-%m-%d %H:%i:%s') AS stamp, date_format(request_time, '%f') AS fraction, date_format(request_time, '%T') AS clock FROM iris_payload WHERE request_id = 'r11'`,
    rule: 'date_format: %i minutes, %s seconds, %f fraction (6 digits, truncated to milliseconds), %T = %H:%i:%s',
    expected: [{ stamp: '2026-11-22 23:59:59', fraction: '999000', clock: '23:59:59' }],
  },
  {
    name: 'dates: date_format names and day of year',
    sql: `SELECT date_format(request_time, '%W %M %e, %a %b %j') AS v FROM iris_payload WHERE request_id = 'r08'`,
    rule: 'date_format: %W weekday name, %M month name, %e day without padding, %a/%b abbreviations, %j day of year',
    expected: [{ v: 'Sunday November 22, Sun Nov 326' }],
  },
  {
    name: 'dates: date_format with a 12-hour clock',
    sql: `SELECT date_format(TIMESTAMP '2026-11-22 07:05:09', '%h:%i %p') AS morning, date_format(TIMESTAMP '2026-11-22 12:00:00', '%r') AS noon`,
    rule: 'date_format: %h hour 01-12, %p AM/PM, %r = %h:%i:%s %p',
    expected: [{ morning: '07:05 AM', noon: '12:00:00 PM' }],
  },
  {
    name: 'dates: requests per minute (README query)',
    sql: `SELECT date_format(request_time, '%Y-%m-%d %H:%i') AS minute, count(*) AS n FROM iris_payload WHERE "date" = '2026-11-21' GROUP BY 1 ORDER BY 1`,
    rule: 'date_format with %i (minutes); ORDER BY the formatted text',
    expected: [
      { minute: '2026-11-21 22:10', n: 1 },
      { minute: '2026-11-21 22:40', n: 1 },
      { minute: '2026-11-21 23:20', n: 1 },
      { minute: '2026-11-21 23:50', n: 1 },
    ],
    ordered: true,
  },
  {
    name: 'dates: date_parse',
    sql: `SELECT date_parse('22/11/2026 07:30', '%d/%m/%Y %H:%i') AS t`,
    rule: 'date_parse(string, format) returns timestamp(3)',
    expected: [{ t: '2026-11-22 07:30:00.000' }],
  },
  {
    name: 'dates: parse_datetime with a Joda pattern',
    sql: `SELECT hour(parse_datetime('2026-11-22 07:30', 'yyyy-MM-dd HH:mm')) AS h, minute(parse_datetime('2026-11-22 07:30', 'yyyy-MM-dd HH:mm')) AS m`,
    rule: 'parse_datetime(string, format) returns a timestamp with time zone (session zone)',
    expected: [{ h: 7, m: 30 }],
  },
  {
    name: 'dates: from_iso8601_timestamp with an offset and with Z',
    sql: `SELECT to_unixtime(from_iso8601_timestamp('2026-11-22T12:00:00+01:00')) AS epoch, hour(from_iso8601_timestamp('2026-11-22T12:00:00Z')) AS h`,
    rule: 'from_iso8601_timestamp keeps the offset of the text: 12:00+01:00 is 11:00 UTC',
    expected: [{ epoch: 1795345200, h: 12 }],
  },
  {
    name: 'dates: from_iso8601_date and to_iso8601',
    sql: `SELECT from_iso8601_date('2026-11-22') AS d, to_iso8601(DATE '2026-11-22') AS date_text, to_iso8601(request_time) AS time_text FROM iris_payload WHERE request_id = 'r08'`,
    rule: 'to_iso8601 formats a date as yyyy-MM-dd and a timestamp(3) as yyyy-MM-ddTHH:mm:ss.SSS (no zone)',
    expected: [{ d: '2026-11-22', date_text: '2026-11-22', time_text: '2026-11-22T12:00:00.000' }],
  },
  {
    name: 'dates: from_unixtime of epoch seconds',
    sql: `SELECT from_unixtime(timestamp_ms / 1000) = request_time AS same, CAST(from_unixtime(timestamp_ms / 1000) AS TIMESTAMP) AS t FROM iris_payload WHERE request_id = 'r01'`,
    rule: 'from_unixtime(seconds) returns timestamp(3) with time zone (UTC); timestamp_ms / 1000 is bigint division (exact here)',
    expected: [{ same: true, t: '2026-11-21 22:10:00.000' }],
  },
  {
    name: 'dates: from_unixtime renders with the session zone',
    sql: `SELECT from_unixtime(1795348800) AS t`,
    rule: 'from_unixtime -> timestamp(3) with time zone, printed with the zone',
    expected: [{ t: '2026-11-22 12:00:00.000 UTC' }],
  },
  {
    name: 'dates: to_unixtime',
    sql: `SELECT to_unixtime(request_time) AS epoch FROM iris_payload WHERE request_id = 'r08'`,
    rule: 'to_unixtime(timestamp) -> double seconds (the timestamp taken in UTC)',
    expected: [{ epoch: 1795348800 }],
  },
  {
    name: 'dates: to_unixtime agrees with timestamp_ms',
    sql: `SELECT count_if(round(to_unixtime(request_time) * 1000) = timestamp_ms) AS same FROM iris_payload`,
    rule: 'request_time and timestamp_ms are the same instant',
    expected: [{ same: 12 }],
  },
  {
    name: 'dates: field functions',
    sql: `SELECT year(request_time) AS y, month(request_time) AS mo, day(request_time) AS d, hour(request_time) AS h, minute(request_time) AS mi, second(request_time) AS s, millisecond(request_time) AS ms FROM iris_payload WHERE request_id = 'r11'`,
    rule: 'year / month / day / hour / minute / second / millisecond return bigint',
    expected: [{ y: 2026, mo: 11, d: 22, h: 23, mi: 59, s: 59, ms: 999 }],
  },
  {
    name: 'dates: extract',
    sql: `SELECT extract(hour FROM request_time) AS h, extract(DOW FROM request_time) AS dow_v, extract(DOY FROM request_time) AS doy_v, extract(YEAR FROM request_time) AS y FROM iris_payload WHERE request_id = 'r08'`,
    rule: 'extract(field FROM x): DOW is ISO day_of_week, DOY day_of_year',
    expected: [{ h: 12, dow_v: 7, doy_v: 326, y: 2026 }],
  },
  {
    name: 'dates: week, quarter, day_of_year, last_day_of_month',
    sql: `SELECT week(DATE '2026-11-22') AS iso_week, quarter(DATE '2026-11-22') AS q, day_of_year(DATE '2026-11-22') AS doy_v, last_day_of_month(DATE '2026-11-22') AS month_end`,
    rule: 'week is the ISO week (2026-11-22 is in week 47); quarter 1-4',
    expected: [{ iso_week: 47, q: 4, doy_v: 326, month_end: '2026-11-30' }],
  },
  {
    name: 'dates: date_add by hours, days and months',
    sql: `SELECT date_add('hour', -24, TIMESTAMP '2026-11-22 12:00:00.000') AS hours, date_add('day', 1, DATE '2026-11-30') AS next_day, date_add('month', 1, DATE '2026-01-31') AS next_month`,
    rule: 'date_add(unit, value, x) keeps the type; adding a month clamps to the last day of the month',
    expected: [{ hours: '2026-11-21 12:00:00.000', next_day: '2026-12-01', next_month: '2026-02-28' }],
  },
  {
    name: 'dates: date_diff in minutes',
    sql: `SELECT date_diff('minute', TIMESTAMP '2026-11-21 22:10:00', TIMESTAMP '2026-11-22 00:05:00') AS minutes`,
    rule: 'date_diff(unit, t1, t2) = t2 - t1 in whole units',
    expected: [{ minutes: 115 }],
  },
  {
    name: 'dates: date_diff over the table',
    sql: `SELECT date_diff('hour', min(request_time), max(request_time)) AS hours, date_diff('day', min(request_time), max(request_time)) AS days FROM iris_payload`,
    rule: 'date_diff counts whole units: 22:10 to 23:59:59.999 the next day is 25 h 49 m',
    expected: [{ hours: 25, days: 1 }],
  },
  {
    name: 'dates: date_diff between dates, forwards and backwards',
    sql: `SELECT date_diff('day', DATE '2026-11-22', DATE '2026-12-25') AS ahead, date_diff('day', DATE '2026-11-22', DATE '2026-11-20') AS behind`,
    rule: 'date_diff on dates; negative when the second is earlier',
    expected: [{ ahead: 33, behind: -2 }],
  },
  {
    name: 'dates: INTERVAL arithmetic on timestamps and dates',
    sql: `SELECT TIMESTAMP '2026-11-22 23:30:00.000' + INTERVAL '1' HOUR AS later, DATE '2026-11-22' - INTERVAL '1' DAY AS yesterday, DATE '2026-11-22' + INTERVAL '2' MONTH AS in_two_months, TIMESTAMP '2026-10-31 01:00:00.000' + INTERVAL '1' MONTH AS month_end`,
    rule: 'datetime operators: date +/- interval is a date; + 1 month on Oct 31 gives Nov 30',
    expected: [{ later: '2026-11-23 00:30:00.000', yesterday: '2026-11-21', in_two_months: '2027-01-22', month_end: '2026-11-30 01:00:00.000' }],
  },
  {
    name: 'dates: filter on a timestamp minus an interval',
    sql: `SELECT count(*) AS n FROM iris_payload WHERE request_time >= TIMESTAMP '2026-11-22 12:00:00' - INTERVAL '12' HOUR`,
    rule: 'timestamp - interval; every request of 2026-11-22',
    expected: [{ n: 8 }],
  },
  {
    name: 'dates: timestamp minus timestamp is an interval',
    sql: `SELECT to_milliseconds(TIMESTAMP '2026-11-22 12:00:00' - TIMESTAMP '2026-11-22 10:30:00') AS ms`,
    rule: 'timestamp - timestamp -> interval day to second; to_milliseconds(interval)',
    expected: [{ ms: 5400000 }],
  },
  {
    name: 'dates: CAST(request_time AS DATE) matches the partition',
    sql: `SELECT count_if(CAST(request_time AS DATE) = CAST("date" AS DATE)) AS same, count_if(date(request_time) = DATE '2026-11-21') AS first_day FROM iris_payload`,
    rule: 'CAST(timestamp AS DATE); date(x) is an alias of CAST(x AS DATE); CAST(varchar AS DATE)',
    expected: [{ same: 12, first_day: 4 }],
  },
  {
    name: 'dates: CAST of text to TIMESTAMP and DATE',
    sql: `SELECT CAST('2026-11-22 07:30:00' AS TIMESTAMP) AS t, CAST('2026-11-22' AS DATE) AS d`,
    rule: 'CAST(varchar AS TIMESTAMP) gives timestamp(3); CAST(varchar AS DATE)',
    expected: [{ t: '2026-11-22 07:30:00.000', d: '2026-11-22' }],
  },
];
