import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { payloadColumnsMarkdown } from '../../lambdas/core/capture-record.js';
import { FIXED_COLUMNS, OUTCOME_COLUMNS } from '../../lambdas/core/unpacked-schema.js';
import { ROOT } from '../helpers/config.js';

const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');

describe('README', () => {
  it('documents the payload columns exactly as the schema defines them', () => {
    const section = /<!-- payload-columns:start -->\n([\s\S]*?)\n<!-- payload-columns:end -->/.exec(readme);
    expect(section?.[1]).toBe(payloadColumnsMarkdown());
  });

  it('documents the unpacked columns in the order of the table', () => {
    const section = /<!-- unpacked-columns:start -->\n([\s\S]*?)\n<!-- unpacked-columns:end -->/.exec(readme)?.[1] ?? '';
    const names = section
      .split('\n')
      .slice(2)
      .map((line) => line.split('|')[1]?.trim());
    expect(names).toEqual([...FIXED_COLUMNS.map(([c]) => c), '*one column per feature*', ...OUTCOME_COLUMNS]);
  });

  it('gives the two quickstart commands', () => {
    expect(readme).toContain('npm ci && npm start');
    expect(readme).toContain('npm test');
  });
});
