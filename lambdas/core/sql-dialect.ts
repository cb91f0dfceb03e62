/**
 * The small dialect layer between Athena (Trino) SQL and the embedded engine. Most Athena
 * functions are defined as macros on the engine; the format strings of `date_format` and
 * `date_parse` must be constants there, so their MySQL-style letters are translated in the
 * SQL text itself, in string literals only.
 */

/** MySQL/Trino format letters that differ from strftime's. */
const FORMAT_LETTERS: Readonly<Record<string, string>> = {
  '%i': '%M', // minutes
  '%s': '%S', // seconds
  '%T': '%H:%M:%S',
  '%r': '%I:%M:%S %p',
  '%k': '%-H',
  '%l': '%-I',
  '%c': '%-m',
  '%e': '%-d',
  '%v': '%V',
  '%h': '%I',
  '%W': '%A',
  '%M': '%B', // month name in Trino, minutes in strftime
};

/** Translates a Trino `date_format` pattern into a strftime pattern. */
export function trinoFormatToStrftime(format: string): string {
  return format.replace(/%./g, (m) => FORMAT_LETTERS[m] ?? m);
}

const FORMAT_FUNCTIONS = /^(date_format|date_parse)$/i;

/**
 * Rewrites Athena SQL for the embedded engine: the literal second argument of
 * `date_format(…, '…')` and `date_parse(…, '…')` is translated. Everything else,
 * including text inside other string literals and comments, is left as written.
 */
export function athenaToLocalSql(sql: string): string {
  let out = '';
  let i = 0;
  // Stack of open parentheses: for a format function, the argument index we are in.
  const stack: { fn: boolean; arg: number }[] = [];
  let lastWord = '';
  while (i < sql.length) {
    const ch = sql[i] as string;
    if (ch === "'") {
      let j = i + 1;
      while (j < sql.length) {
        if (sql[j] === "'" && sql[j + 1] === "'") j += 2;
        else if (sql[j] === "'") break;
        else j++;
      }
      const literal = sql.slice(i, j + 1);
      const top = stack.at(-1);
      out += top?.fn && top.arg === 1 ? `'${trinoFormatToStrftime(literal.slice(1, -1))}'` : literal;
      i = j + 1;
      lastWord = '';
      continue;
    }
    if (ch === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop;
      continue;
    }
    if (ch === '"') {
      const end = sql.indexOf('"', i + 1);
      const stop = end < 0 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop;
      lastWord = '';
      continue;
    }
    if (/[A-Za-z_]/.test(ch)) {
      let j = i;
      while (j < sql.length && /[A-Za-z0-9_]/.test(sql[j] as string)) j++;
      lastWord = sql.slice(i, j);
      out += lastWord;
      i = j;
      continue;
    }
    if (ch === '(') stack.push({ fn: FORMAT_FUNCTIONS.test(lastWord), arg: 0 });
    else if (ch === ')') stack.pop();
    else if (ch === ',' && stack.length > 0) (stack.at(-1) as { arg: number }).arg++;
    if (!/\s/.test(ch)) lastWord = ch === '(' ? lastWord : '';
    out += ch;
    i++;
  }
  return out;
}
