/**
 * C's strftime in the "C" locale for local time, as mosquitto_sub uses it for `-F @X` and `%I`. Covers the POSIX
 * and GNU conversions; an unknown conversion prints as written (glibc does the same).
 */

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
  'November', 'December'];

const pad = (n: number, width: number, fill = '0'): string => String(n).padStart(width, fill);

function dayOfYear(d: Date): number {
  const start = new Date(d.getFullYear(), 0, 1);
  return Math.round((Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()) - Date.UTC(start.getFullYear(), 0, 1))
    / 86_400_000);
}

/** ISO 8601 week number and week-based year. */
function isoWeek(d: Date): { week: number; year: number } {
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const day = t.getUTCDay() === 0 ? 7 : t.getUTCDay();
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const yearStart = Date.UTC(t.getUTCFullYear(), 0, 1);
  return { week: Math.ceil(((t.getTime() - yearStart) / 86_400_000 + 1) / 7), year: t.getUTCFullYear() };
}

function zoneOffset(d: Date): string {
  const minutes = -d.getTimezoneOffset();
  const sign = minutes < 0 ? '-' : '+';
  const abs = Math.abs(minutes);
  return `${sign}${pad(Math.floor(abs / 60), 2)}${pad(abs % 60, 2)}`;
}

function zoneName(d: Date): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d)
    .find((p) => p.type === 'timeZoneName');
  return part?.value ?? '';
}

function hour12(d: Date): number {
  const h = d.getHours() % 12;
  return h === 0 ? 12 : h;
}

/** One conversion character; undefined when unknown. */
export function strftimeConversion(c: string, d: Date): string | undefined {
  switch (c) {
    case 'a': return DAYS[d.getDay()]!.slice(0, 3);
    case 'A': return DAYS[d.getDay()]!;
    case 'b': case 'h': return MONTHS[d.getMonth()]!.slice(0, 3);
    case 'B': return MONTHS[d.getMonth()]!;
    case 'c': return `${strftime('%a %b %e %H:%M:%S %Y', d)}`;
    case 'C': return pad(Math.floor(d.getFullYear() / 100), 2);
    case 'd': return pad(d.getDate(), 2);
    case 'D': return strftime('%m/%d/%y', d);
    case 'e': return pad(d.getDate(), 2, ' ');
    case 'F': return strftime('%Y-%m-%d', d);
    case 'g': return pad(isoWeek(d).year % 100, 2);
    case 'G': return String(isoWeek(d).year);
    case 'H': return pad(d.getHours(), 2);
    case 'I': return pad(hour12(d), 2);
    case 'j': return pad(dayOfYear(d) + 1, 3);
    case 'k': return pad(d.getHours(), 2, ' ');
    case 'l': return pad(hour12(d), 2, ' ');
    case 'm': return pad(d.getMonth() + 1, 2);
    case 'M': return pad(d.getMinutes(), 2);
    case 'n': return '\n';
    case 'p': return d.getHours() < 12 ? 'AM' : 'PM';
    case 'P': return d.getHours() < 12 ? 'am' : 'pm';
    case 'r': return strftime('%I:%M:%S %p', d);
    case 'R': return strftime('%H:%M', d);
    case 's': return String(Math.floor(d.getTime() / 1000));
    case 'S': return pad(d.getSeconds(), 2);
    case 't': return '\t';
    case 'T': return strftime('%H:%M:%S', d);
    case 'u': return String(d.getDay() === 0 ? 7 : d.getDay());
    case 'U': return pad(Math.floor((dayOfYear(d) + 7 - d.getDay()) / 7), 2);
    case 'V': return pad(isoWeek(d).week, 2);
    case 'w': return String(d.getDay());
    case 'W': return pad(Math.floor((dayOfYear(d) + 7 - ((d.getDay() + 6) % 7)) / 7), 2);
    case 'x': return strftime('%m/%d/%y', d);
    case 'X': return strftime('%H:%M:%S', d);
    case 'y': return pad(d.getFullYear() % 100, 2);
    case 'Y': return String(d.getFullYear());
    case 'z': return zoneOffset(d);
    case 'Z': return zoneName(d);
    case '%': return '%';
    default: return undefined;
  }
}

export function strftime(format: string, d: Date): string {
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const ch = format[i]!;
    if (ch !== '%' || i === format.length - 1) {
      out += ch;
      continue;
    }
    const c = format[++i]!;
    out += strftimeConversion(c, d) ?? `%${c}`;
  }
  return out;
}
