import { createHash } from 'node:crypto';

/** A number in [0, 1) derived from a string; the same string always gives the same number. */
export function unitHash(text: string): number {
  return createHash('sha256').update(text).digest().readUInt32BE(0) / 2 ** 32;
}

/** A short stable hex id derived from its parts. */
export function stableId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}
