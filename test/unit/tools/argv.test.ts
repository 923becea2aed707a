import { describe, expect, it } from 'vitest';
import { ArgvOptions } from '../../../src/tools/argv.js';

describe('ArgvOptions', () => {
  it('yields each word; value() takes the next one and the iteration goes on after it', () => {
    const o = new ArgvOptions(['--a', '1', '-v', '--b', 'x']);
    const seen: string[] = [];
    for (const arg of o) seen.push(arg === '--a' || arg === '--b' ? `${arg}=${o.value(arg)}` : arg);
    expect(seen).toEqual(['--a=1', '-v', '--b=x']);
  });

  it('an option with no value left is an error naming it', () => {
    const o = new ArgvOptions(['--swap']);
    expect(() => { for (const arg of o) o.value(arg); }).toThrow('--swap needs a value');
  });

  it('rest() after a break gives the words not read', () => {
    const o = new ArgvOptions(['--x', '--', 'mod.js', 'a']);
    for (const arg of o) if (arg === '--') break;
    expect(o.rest()).toEqual(['mod.js', 'a']);
    expect(o.rest()).toEqual([]);
  });
});
