// Captured bodies as written: a JSON text re-indented without being converted, so numbers keep
// their digits (9007199254740993 and 1.10 stay so) and a key sent twice is shown twice.

/** Reads a JSON text into a tree of its tokens as written; throws on what is not JSON. */
export function readJson(text) {
  let i = 0;
  const space = () => { while (/[\s]/.test(text[i] ?? '')) i++; };
  const fail = () => { throw new SyntaxError(`not JSON at ${i}`); };
  function value() {
    space();
    const c = text[i];
    if (c === '{' || c === '[') {
      const array = c === '[';
      i++;
      const entries = [];
      space();
      if (text[i] === (array ? ']' : '}')) { i++; return { array, entries }; }
      for (;;) {
        let key = null;
        if (!array) {
          space();
          if (text[i] !== '"') fail();
          key = string();
          space();
          if (text[i++] !== ':') fail();
        }
        entries.push([key, value()]);
        space();
        const next = text[i++];
        if (next === ',') continue;
        if (next === (array ? ']' : '}')) return { array, entries };
        fail();
      }
    }
    if (c === '"') return { raw: string() };
    const m = /^(-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?|true|false|null)/.exec(text.slice(i, i + 400));
    if (!m) fail();
    i += m[0].length;
    return { raw: m[0] };
  }
  function string() {
    const start = i++;
    while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    if (text[i] !== '"') fail();
    i++;
    return text.slice(start, i);
  }
  const tree = value();
  space();
  if (i !== text.length) fail();
  return tree;
}

/** The tree indented by two spaces, with arrays and objects of plain values kept on one line when short. */
export function printJson(node, indent = '') {
  if (node.raw !== undefined) return node.raw;
  const [open, close] = node.array ? ['[', ']'] : ['{', '}'];
  if (node.entries.length === 0) return open + close;
  const item = ([k, v], inner) => (k === null ? '' : k + ': ') + printJson(v, inner);
  if (node.entries.every(([, v]) => v.raw !== undefined)) {
    const line = node.entries.map((e) => item(e, '')).join(', ');
    if (line.length <= 100) return open + line + close;
  }
  const inner = indent + '  ';
  return `${open}\n${node.entries.map((e) => inner + item(e, inner)).join(',\n')}\n${indent}${close}`;
}
