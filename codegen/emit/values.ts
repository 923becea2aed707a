/*
 * File: codegen/emit/values.ts
 * Purpose: how a MIG field becomes a TypeScript value: its TS type, how the sender packs
 *          it into a MachMsgItem (data, run-time count, inline choice) and how the receiver
 *          reads it back. Shared by the user and server emitters.
 *
 * The item data of each kind is fixed by src/mach/mig.ts (see "values" there): integers
 * as numbers, integer arrays as number[] in line and little-endian bytes out of line,
 * 8-bit data as Uint8Array, strings as string, rights as names.
 */

import type { Argument } from '../routine.js';
import { isPortName, MSG_TYPE_POLYMORPHIC, type IpcType } from '../type.js';

export type ValueKind = 'int' | 'bool' | 'port' | 'ports' | 'ints' | 'bytes' | 'string';

/** The kind of TS value a field of this type carries. */
export function valueKind(it: IpcType): ValueKind {
  const portish = isPortName(it.inName) || isPortName(it.outName) || it.inName === MSG_TYPE_POLYMORPHIC || it.outName === MSG_TYPE_POLYMORPHIC;
  const scalar = it.number === 1 && !it.varArray && it.inLine;
  if (portish) return scalar ? 'port' : 'ports';
  if (it.string) return 'string';
  const intSize = it.size === 8 || it.size === 16 || it.size === 32 || it.size === 64;
  if (scalar && intSize) return it.inName === 0 && it.size === 32 ? 'bool' : 'int';
  if (it.size === 16 || it.size === 32 || it.size === 64) return 'ints';
  return 'bytes';
}

export function tsTypeOfKind(kind: ValueKind): string {
  switch (kind) {
    case 'int': return 'number';
    case 'bool': return 'boolean';
    case 'port': return 'MachPort | null';
    case 'ports': return 'Array<MachPort | null>';
    case 'ints': return 'number[]';
    case 'bytes': return 'Uint8Array';
    case 'string': return 'string';
  }
}

const TS_RESERVED = new Set([
  'break', 'case', 'catch', 'class', 'const', 'continue', 'debugger', 'default', 'delete', 'do', 'else', 'enum',
  'export', 'extends', 'false', 'finally', 'for', 'function', 'if', 'import', 'in', 'instanceof', 'new', 'null',
  'return', 'super', 'switch', 'this', 'throw', 'true', 'try', 'typeof', 'var', 'void', 'while', 'with', 'as',
  'implements', 'interface', 'let', 'package', 'private', 'protected', 'public', 'static', 'yield', 'any',
  'boolean', 'constructor', 'declare', 'get', 'module', 'require', 'number', 'set', 'string', 'symbol', 'type',
  'from', 'of', 'await', 'async', 'unknown', 'never', 'object', 'bigint', 'undefined', 'arguments', 'eval',
  // names the generated code itself uses (locals and the runtime helpers it imports)
  'rt', 'body', 'reply', 'req', 'impl', 'r', 'b', 'h', 'q', 'f', 'e', 'outs', 'complex', 'option', 'timeout',
  'mig_rpc', 'mig_send', 'mig_reply', 'mig_finish', 'mig_fail', 'mig_check_reply', 'mig_check_type', 'mig_complex',
  'mig_string', 'msgSize', 'port_name', 'port_value', 'ports_value', 'int_value', 'bool_value', 'string_value',
  'bytes_value', 'ints_value', 'ints_to_bytes', 'bytes_to_ints', 'check_length', 'MigBadArguments', 'RETCODE_TYPE',
  'MachError', 'MachPort', 'MachMsg', 'MachMessage', 'MachMsgItem', 'MigDemux', 'MigResult', 'MigRoutineInfo',
  'MACH_MSG_TYPE_PORT_ANY', 'MACH_RCV_TIMEOUT', 'MACH_MSGH_BITS_LOCAL', 'MACH_MSGH_BITS_REMOTE', 'EOPNOTSUPP',
  'KERN_SUCCESS', 'MIG_TYPE_ERROR', 'MIG_ARRAY_TOO_LARGE', 'MIG_BAD_ARGUMENTS', 'MIG_BAD_ID', 'ROUTINES', 'table', 'demux', 'stub', 'n',
]);

/** A TypeScript identifier for a .defs name (reserved words get a trailing underscore). */
export function ident(name: string): string {
  return TS_RESERVED.has(name) ? `${name}_` : name;
}

/** TS names of builtin types, which a .defs type alias must not redeclare. */
const TS_TYPE_NAMES = new Set(['any', 'unknown', 'number', 'bigint', 'boolean', 'string', 'symbol', 'object', 'never', 'void', 'undefined', 'null', 'Array', 'Promise', 'MachPort', 'Uint8Array']);

/** The alias a field's type is written with in signatures (its .defs name), if any. */
export function aliasName(it: IpcType): string | null {
  const n = it.name;
  if (n === null || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n) || TS_TYPE_NAMES.has(n) || TS_RESERVED.has(n)) return null;
  return n;
}

export function tsType(it: IpcType): string {
  return aliasName(it) ?? tsTypeOfKind(valueKind(it));
}

/** Bits per element as the wire carries integer arrays. */
function elementBits(it: IpcType): number {
  return it.size;
}

/** An object literal for a MachMsgType (as code). */
export function typeLiteral(t: { name: string; size: number; number: string; inline: string; longform: boolean; deallocate: string }): string {
  return `{ name: ${t.name}, size: ${t.size}, number: ${t.number}, inline: ${t.inline}, longform: ${t.longform}, deallocate: ${t.deallocate} }`;
}

/**
 * Code that packs the value `v` (a TS expression) of field `arg` into an item.
 * `nameExpr` is the descriptor name (a number literal or the poly expression), `dealloc`
 * the deallocate expression for data sent out of line. Returns the statements (which
 * push onto `body`); when the message's complex bit is decided at run time
 * (`dynamicComplex`), data sent out of line sets the local `complex`.
 */
export function packField(arg: Argument, v: string, nameExpr: string, deallocExpr: string, rtExpr: string, messageSide: 'request' | 'reply', dynamicComplex: boolean): string[] {
  const it = arg.type!;
  const kind = valueKind(it);
  const longform = arg.longForm;
  const lines: string[] = [];
  const item = (data: string, number: string, inline: string, dealloc: string): string =>
    `body.push({ type: ${typeLiteral({ name: nameExpr, size: it.size, number, inline, longform, deallocate: dealloc })}, data: ${data} });`;
  const tooLarge = messageSide === 'request' ? 'throw new MachError(MIG_ARRAY_TOO_LARGE)' : `throw new RangeError('${arg.name}: more elements than the routine allows')`;
  const max = it.number;
  if (!it.inLine) {
    // Out of line: always a pointer; the bytes (or names) travel with the message.
    const n = kind === 'ports' ? `${v}.length` : kind === 'ints' ? `${v}.length` : `${v}.length * 8 / ${it.size}`;
    const data = kind === 'ports' ? `${v}.map((p) => port_name(${rtExpr}, p))` : kind === 'ints' ? `ints_to_bytes(${v}, ${elementBits(it)})` : v;
    lines.push(item(data, it.varArray || it.number === 0 ? n : String(it.number), 'false', deallocExpr));
    return lines;
  }
  if (kind === 'string') {
    // The field's bytes: c_string[N] is N elements of 8 bits, (MACH_MSG_TYPE_STRING, 8*N) one of 8*N.
    const bytes = Math.floor((it.number * it.size) / 8);
    if (it.varArray) {
      lines.push(`const ${arg.name}S = mig_string(${v}, ${bytes});`);
      lines.push(item(`${arg.name}S.value`, `${arg.name}S.count`, 'true', deallocExpr));
    } else lines.push(item(`mig_string(${v}, ${bytes}).value`, String(max), 'true', deallocExpr));
    return lines;
  }
  if (!it.varArray) {
    const data = kind === 'int' ? v : kind === 'bool' ? `${v} ? 1 : 0` : kind === 'port' ? `port_name(${rtExpr}, ${v})`
      : kind === 'ports' ? `check_length(${v}, ${max}, '${arg.name}').map((p) => port_name(${rtExpr}, p))`
        : kind === 'ints' ? `check_length(${v}, ${max}, '${arg.name}')` : `check_length(${v}, ${Math.floor((max * it.size + 7) / 8)}, '${arg.name}')`;
    lines.push(item(data, String(max), 'true', deallocExpr));
    return lines;
  }
  // A variable array in line: count checked against the bound; indefinite ones go out of
  // line beyond it (2048 bytes' worth).
  const count = kind === 'bytes' ? `(${v}.length * 8 / ${it.size})` : `${v}.length`;
  const mult = it.element?.number ?? 1;
  if (mult > 1) lines.push(`if (${count} % ${mult} !== 0) throw new RangeError('${arg.name}: not a whole number of elements');`);
  const inlineData = kind === 'ports' ? `${v}.map((p) => port_name(${rtExpr}, p))` : v;
  if (it.indefinite) {
    const oolData = kind === 'ports' ? inlineData : kind === 'ints' ? `ints_to_bytes(${v}, ${elementBits(it)})` : v;
    lines.push(`if (${count} > ${max}) {`);
    lines.push(`  ${item(oolData, count, 'false', deallocExpr)}`);
    if (dynamicComplex) lines.push('  complex = true;');
    lines.push('} else {');
    lines.push(`  ${item(inlineData, count, 'true', 'false')}`);
    lines.push('}');
  } else {
    lines.push(`if (${count} > ${max}) ${tooLarge};`);
    lines.push(item(inlineData, count, 'true', deallocExpr));
  }
  return lines;
}

/** Code (an expression) reading field `arg` from `item` as its TS value. */
export function unpackField(arg: Argument, item: string, rtExpr: string): string {
  const it = arg.type!;
  const kind = valueKind(it);
  switch (kind) {
    case 'int': return `int_value(${item})`;
    case 'bool': return `bool_value(${item})`;
    case 'port': return `port_value(${rtExpr}, ${item})`;
    case 'ports': return `ports_value(${rtExpr}, ${item})`;
    case 'string': return `string_value(${item})`;
    case 'bytes': return `bytes_value(${item}, ${item}.type)`;
    case 'ints':
      if (!it.inLine) return `bytes_to_ints(bytes_value(${item}, ${item}.type), ${elementBits(it)})`;
      if (it.indefinite) return `(${item}.type.inline ? ints_value(${item}, ${item}.type.number) : bytes_to_ints(bytes_value(${item}, ${item}.type), ${elementBits(it)}))`;
      return `ints_value(${item}, ${item}.type.number)`;
  }
}
