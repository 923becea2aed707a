/*
 * File: codegen/emit/common.ts
 * Purpose: what the user and server emitters share: the emit context, descriptor check
 *          literals (MIG's TypeCheck) and the translation of .defs option names.
 */

import { CompileError, type SourcePosition } from '../diagnostic.js';
import type { Argument } from '../routine.js';
import { MSG_TYPE_POLYMORPHIC, type IpcType } from '../type.js';
import { MSG_OPTION_VALUES } from '../../src/mach/message.js';

export interface EmitContext {
  base: number;
  /** the .defs path as shown in generated comments (e.g. defs/mach.defs) */
  sourceName: string;
  kernelServer: boolean;
  errors: CompileError[];
}

/**
 * The receiver's check of one descriptor, as a MigTypeCheck literal. Quick-checkable
 * fields (short form, not polymorphic, not variable) compare the whole descriptor built
 * from the out-name (out-of-line data always arrives with deallocate set); the others
 * compare attributes, skipping what may vary.
 */
export function checkLiteral(a: Argument, it: IpcType, quick: boolean): string {
  if (quick) {
    return `{ name: ${it.outName}, size: ${it.size}, number: ${it.number}, inline: ${it.inLine}, longform: false, deallocate: ${!it.inLine} }`;
  }
  const parts: string[] = [];
  if (it.outName !== MSG_TYPE_POLYMORPHIC) parts.push(`name: ${it.outName}`);
  parts.push(`size: ${it.size}`);
  if (!it.varArray) parts.push(`number: ${it.number}`);
  if (!it.indefinite) parts.push(`inline: ${it.inLine}`);
  parts.push(`longform: ${a.longForm}`);
  return `{ ${parts.join(', ')} }`;
}

/**
 * The numeric value of a global msgoption (a MACH_* option name, or digits) or waittime
 * (digits). MIG passes these to C unevaluated; TypeScript needs the number.
 */
export function optionValue(text: string, pos: SourcePosition, cx: EmitContext, what: 'option' | 'timeout' = 'option'): number {
  if (/^\d+$/.test(text)) return Number(text);
  if (what === 'option') {
    let v = 0;
    for (const name of text.split('|')) {
      const n = MSG_OPTION_VALUES[name];
      if (n === undefined) {
        cx.errors.push(new CompileError(pos, `msgoption ${name} is not a mach_msg option tsmig knows`));
        return 0;
      }
      v |= n;
    }
    return v;
  }
  cx.errors.push(new CompileError(pos, `waittime ${text} must be a number of milliseconds for TypeScript stubs`));
  return 0;
}
