/**
 * Parsed JSON values, and how MLflow's Python messages name them: the scoring protocol's
 * error texts are compared byte for byte, so types and collections are written as Python
 * prints them (`<class 'int'>`, `{'a', 'b'}`, `['a', 'b']`).
 */

/** True for a JSON object (not null, not a list). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A JSON text's object, or null when the text is null, not JSON, or not an object. */
export function parseObject(text: string | null): Record<string, unknown> | null {
  if (text === null) return null;
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** The Python type of a parsed JSON value, as `repr(type(value))` prints it. */
export function describeType(value: unknown): string {
  if (value === null) return "<class 'NoneType'>";
  if (typeof value === 'string') return "<class 'str'>";
  if (typeof value === 'boolean') return "<class 'bool'>";
  if (typeof value === 'number') return Number.isInteger(value) ? "<class 'int'>" : "<class 'float'>";
  if (Array.isArray(value)) return "<class 'list'>";
  return "<class 'dict'>";
}

/** Strings as a Python set literal: `{'a', 'b'}`. */
export function pythonSet(items: readonly string[]): string {
  return `{${items.map((i) => `'${i}'`).join(', ')}}`;
}

/** Strings as a Python list literal: `['a', 'b']`. */
export function pythonList(items: readonly string[]): string {
  return `[${items.map((i) => `'${i}'`).join(', ')}]`;
}
