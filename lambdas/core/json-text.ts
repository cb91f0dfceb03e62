/**
 * Edits on JSON text that keep every other byte as sent. Re-serialising a parsed body would
 * change number spellings and lose precision of large integers, so `client_request_id` is
 * cut out of the text instead.
 */

function skipWs(s: string, i: number): number {
  while (i < s.length && (s[i] === ' ' || s[i] === '\n' || s[i] === '\r' || s[i] === '\t')) i++;
  return i;
}

function skipString(s: string, i: number): number {
  // s[i] === '"'
  i++;
  while (i < s.length) {
    const ch = s[i];
    if (ch === '\\') i += 2;
    else if (ch === '"') return i + 1;
    else i++;
  }
  return i;
}

function skipValue(s: string, i: number): number {
  const ch = s[i];
  if (ch === '"') return skipString(s, i);
  if (ch === '{' || ch === '[') {
    let depth = 0;
    while (i < s.length) {
      const c = s[i];
      if (c === '"') {
        i = skipString(s, i);
        continue;
      }
      if (c === '{' || c === '[') depth++;
      else if (c === '}' || c === ']') {
        depth--;
        if (depth === 0) return i + 1;
      }
      i++;
    }
    return i;
  }
  while (i < s.length && s[i] !== ',' && s[i] !== '}' && s[i] !== ']') i++;
  return i;
}

/**
 * Removes every top-level member named `key` from the text of a JSON object that is known
 * to be valid (it was parsed first). Returns the text unchanged when the key is absent.
 */
export function removeTopLevelKey(text: string, key: string): string {
  let i = skipWs(text, 0);
  if (text[i] !== '{') return text;
  i++;
  const members: { start: number; end: number; name: string }[] = [];
  for (;;) {
    i = skipWs(text, i);
    if (text[i] === '}') break;
    const start = i;
    const nameEnd = skipString(text, i);
    const name = JSON.parse(text.slice(i, nameEnd)) as string;
    i = skipWs(text, nameEnd);
    i = skipWs(text, i + 1); // ':'
    i = skipValue(text, i);
    members.push({ start, end: i, name });
    i = skipWs(text, i);
    if (text[i] === ',') i++;
    else break;
  }
  if (!members.some((m) => m.name === key)) return text;
  const kept = members.filter((m) => m.name !== key);
  // Rebuild the member list from the original slices; only the separators are normalised.
  const open = text.indexOf('{');
  const close = text.lastIndexOf('}');
  return text.slice(0, open + 1) + kept.map((m) => text.slice(m.start, m.end)).join(',') + text.slice(close);
}

/**
 * Text in which a number could reach past the largest double (about 1.8e308): an exponent of
 * three digits or more, or a run of 100 digits. Without it, a number is below 1e199 and the
 * scan skips the number tokens.
 */
const MAY_OVERFLOW = /[eE]\+?\d{3}|\d{100}/;

/** Nesting a scoring request may have: tensors and chat messages need far fewer levels. */
export const MAX_JSON_DEPTH = 64;

/**
 * What JSON.parse lets through that a scoring request must not have: an object with the
 * same key twice (JSON.parse keeps the last, other readers the first, so the model and the
 * table could see different values), nesting deeper than `maxDepth` (recursive code
 * downstream would overflow its stack), or a number too large for a double (JSON.parse makes
 * it Infinity, which no JSON answer or table can hold). One pass over text known to be valid JSON.
 * @returns the problem, or null
 */
export function jsonStructureProblem(text: string, maxDepth = MAX_JSON_DEPTH): string | null {
  // One frame per open container: the keys seen for an object, null for an array.
  const stack: (Set<string> | null)[] = [];
  const mayOverflow = MAY_OVERFLOW.test(text);
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      const end = skipString(text, i);
      if (expectKey) {
        const raw = text.slice(i + 1, end - 1);
        const key = raw.includes('\\') ? (JSON.parse(text.slice(i, end)) as string) : raw;
        const keys = stack[stack.length - 1] as Set<string>;
        if (keys.has(key)) return `the key '${key.slice(0, 64)}' appears twice in one object`;
        keys.add(key);
        expectKey = false;
      }
      i = end - 1;
    } else if (c === 123 || c === 91) {
      if (stack.length >= maxDepth) return `it is nested deeper than ${maxDepth} levels`;
      stack.push(c === 123 ? new Set() : null);
      expectKey = c === 123;
    } else if (c === 125 || c === 93) {
      stack.pop();
      expectKey = false;
    } else if (c === 44) {
      expectKey = stack[stack.length - 1] instanceof Set;
    } else if (mayOverflow && (c === 45 || (c >= 48 && c <= 57))) {
      let end = i + 1;
      let exponent = false;
      for (; end < text.length; end++) {
        const d = text.charCodeAt(end);
        if (d === 101 || d === 69) exponent = true;
        else if (!((d >= 48 && d <= 57) || d === 43 || d === 45 || d === 46)) break;
      }
      // Only an exponent or more than 308 digits can reach past the largest double.
      if ((exponent || end - i > 308) && !Number.isFinite(Number(text.slice(i, end)))) {
        return `the number ${text.slice(i, Math.min(end, i + 32))}${end - i > 32 ? '…' : ''} is too large for a double (it would become infinity)`;
      }
      i = end - 1;
    }
  }
  return null;
}


/**
 * JSON text as Trino's `json_parse` writes it: no spaces, object keys sorted, the spelling of
 * every number and string kept (numbers are not re-serialised through a double). Duplicate
 * keys keep their last value, as Jackson's mapper does.
 * @throws SyntaxError when the text is not JSON
 */
export function canonicalJson(text: string): string {
  JSON.parse(text); // validates, with the engine's own message
  let i = 0;
  const value = (): string => {
    i = skipWs(text, i);
    const ch = text[i];
    if (ch === '{') {
      i++;
      const members = new Map<string, string>();
      i = skipWs(text, i);
      if (text[i] === '}') {
        i++;
        return '{}';
      }
      for (;;) {
        i = skipWs(text, i);
        const start = i;
        i = skipString(text, i);
        const key = text.slice(start, i);
        i = skipWs(text, i) + 1; // ':'
        members.set(JSON.parse(key) as string, `${key}:${value()}`);
        i = skipWs(text, i);
        if (text[i++] === '}') break;
      }
      return `{${[...members.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, m]) => m).join(',')}}`;
    }
    if (ch === '[') {
      i++;
      const items: string[] = [];
      i = skipWs(text, i);
      if (text[i] === ']') {
        i++;
        return '[]';
      }
      for (;;) {
        items.push(value());
        i = skipWs(text, i);
        if (text[i++] === ']') break;
      }
      return `[${items.join(',')}]`;
    }
    const start = i;
    if (ch === '"') i = skipString(text, i);
    else while (i < text.length && !/[\s,\]}]/.test(text[i] as string)) i++;
    return text.slice(start, i);
  };
  return value();
}
