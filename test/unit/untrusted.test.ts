import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { parseUntrusted } from '../../lambdas/core/untrusted.js';

describe('parsing what a caller sent', () => {
  it('refuses a value whose length cannot be compared, with the type error zod would have given', () => {
    const hostile = { length: { toString: 0 } };
    // The defect guarded against: zod 4 throws here instead of failing.
    expect(() => z.array(z.string()).min(1).safeParse(hostile)).toThrow(TypeError);
    const list = parseUntrusted(z.array(z.string()).min(1), hostile);
    expect(list.success).toBe(false);
    expect(list.error?.issues[0]).toMatchObject({ code: 'invalid_type', expected: 'array' });
    const nested = parseUntrusted(z.object({ a: z.array(z.object({ role: z.string().min(1) })) }), { a: [{ role: hostile }] });
    expect(nested.error?.issues[0]).toMatchObject({ code: 'invalid_type', expected: 'string', path: ['a', 0, 'role'] });
  });

  it('parses good values as zod does, and lets other errors through', () => {
    expect(parseUntrusted(z.array(z.int()).min(1), [1, 2])).toMatchObject({ success: true, data: [1, 2] });
    expect(parseUntrusted(z.string().min(2), 'a').error?.issues[0]?.code).toBe('too_small');
    const boom = z.string().transform(() => {
      throw new RangeError('not a TypeError');
    });
    expect(() => parseUntrusted(boom, 'x')).toThrow(RangeError);
  });
});
