import { describe, expect, it } from 'vitest';
import { describeError } from './errors.js';

describe('describeError', () => {
  it('describes anything thrown in one line, and never throws itself', () => {
    expect(describeError(new Error('boom'))).toBe('boom');
    expect(describeError('plain')).toBe('plain');
    expect(describeError({ code: 42 })).toBe('non-error thrown: {"code":42}');
    const hostile = Object.create(Error.prototype, {
      message: {
        get() {
          throw new Error('no message for you');
        },
      },
    });
    expect(describeError(hostile)).toMatch(/^non-error thrown \(it cannot be described/);
    const opaque = { toJSON: () => { throw new Error('x'); }, toString: () => { throw new Error('y'); } };
    expect(describeError(opaque)).toMatch(/^non-error thrown \(it cannot be described/);
  });
});
