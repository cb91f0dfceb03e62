import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ATHENA_ONLY, FUNCTIONS } from '../../lambdas/core/athena-sql/functions.js';
import { LAMBDA_FUNCTIONS } from '../../lambdas/core/athena-sql/lambdas.js';

const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

describe('the Athena functions the local engine runs', () => {
  it('are the ones the README lists, from the registry', () => {
    const listed = /<!-- athena-functions:start -->([\s\S]*?)<!-- athena-functions:end -->/.exec(README)?.[1] ?? '';
    const names = [...listed.matchAll(/`([a-z0-9_]+)`/g)].map((m) => m[1]);
    expect(names).toEqual([...new Set([...Object.keys(FUNCTIONS), ...LAMBDA_FUNCTIONS])].sort());
  });

  it('are never also listed as Athena-only', () => {
    for (const name of [...Object.keys(FUNCTIONS), ...LAMBDA_FUNCTIONS]) expect(ATHENA_ONLY.has(name), name).toBe(false);
  });
});
