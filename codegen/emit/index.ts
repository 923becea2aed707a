/*
 * File: codegen/emit/index.ts
 * Purpose: emit the three outputs of one .defs: X.user.ts, X.server.ts, X.msgids.json.
 */

import type { Statement } from './source.js';
import type { MigModule } from '../compile.js';
import { CompileErrors } from '../diagnostic.js';
import type { EmitContext } from './common.js';
import { msgIds } from './msgids.js';
import { demuxFactory, implInterface } from './server.js';
import { generatedHeader, printSource, tsMorphModule } from './source.js';
import { typeAliases, userFunction } from './user.js';

export interface EmitOptions {
  /** how generated code names the .defs it came from (e.g. defs/mach.defs) */
  sourceName: string;
  /** import specifier of the directory holding mig.js, message.js, kern_return.js */
  runtimeImport: string;
}

export interface Emitted {
  user: string;
  server: string;
  msgids: string;
}

export async function emitModule(mod: MigModule, opts: EmitOptions): Promise<Emitted> {
  const { StructureKind } = tsMorphModule();
  const cx: EmitContext = { base: mod.subsystem.base, sourceName: opts.sourceName, kernelServer: mod.subsystem.kernelServer, errors: [] };
  const rtImport = opts.runtimeImport.replace(/\/$/, '');
  const sub = mod.subsystem;

  const user: Statement[] = [
    `${generatedHeader(opts.sourceName)}\n// Subsystem ${sub.name} (${sub.base}): the client stubs, one per routine, as GNU MIG's user side.`,
    { kind: StructureKind.ImportDeclaration, moduleSpecifier: `${rtImport}/mig.js`, namedImports: ['mig_rpc', 'mig_send', 'mig_check_reply', 'mig_check_type', 'mig_complex', 'mig_string', 'msgSize', 'port_name', 'port_value', 'ports_value', 'int_value', 'bool_value', 'string_value', 'bytes_value', 'ints_value', 'ints_to_bytes', 'bytes_to_ints', 'check_length', 'MigBadArguments', { name: 'MachPort', isTypeOnly: true }] },
    { kind: StructureKind.ImportDeclaration, moduleSpecifier: `${rtImport}/message.js`, namedImports: ['MACH_MSG_TYPE_PORT_ANY', 'MACH_RCV_TIMEOUT', { name: 'MachMsgItem', isTypeOnly: true }] },
    { kind: StructureKind.ImportDeclaration, moduleSpecifier: `${rtImport}/kern_return.js`, namedImports: ['MachError', 'MIG_TYPE_ERROR', 'MIG_ARRAY_TOO_LARGE'] },
    ...typeAliases(mod.routines, 'user'),
    ...mod.routines.map((rt) => userFunction(rt, cx)),
  ];
  const server: Statement[] = [
    `${generatedHeader(opts.sourceName)}\n// Subsystem ${sub.name} (${sub.base}): the work functions a server implements and the demux that calls them.`,
    { kind: StructureKind.ImportDeclaration, moduleSpecifier: `${rtImport}/mig.js`, namedImports: ['mig_reply', 'mig_finish', 'mig_fail', 'mig_check_type', 'mig_complex', 'mig_string', 'msgSize', 'port_name', 'port_value', 'ports_value', 'int_value', 'bool_value', 'string_value', 'bytes_value', 'ints_value', 'ints_to_bytes', 'bytes_to_ints', 'check_length', 'RETCODE_TYPE', { name: 'MachMsg', isTypeOnly: true }, { name: 'MachPort', isTypeOnly: true }, { name: 'MigDemux', isTypeOnly: true }, { name: 'MigResult', isTypeOnly: true }, { name: 'MigRoutineInfo', isTypeOnly: true }] },
    { kind: StructureKind.ImportDeclaration, moduleSpecifier: `${rtImport}/message.js`, namedImports: ['MACH_MSG_TYPE_PORT_ANY', 'MACH_MSGH_BITS_LOCAL', 'MACH_MSGH_BITS_REMOTE', { name: 'MachMessage', isTypeOnly: true }, { name: 'MachMsgItem', isTypeOnly: true }] },
    { kind: StructureKind.ImportDeclaration, moduleSpecifier: `${rtImport}/kern_return.js`, namedImports: ['EOPNOTSUPP', 'KERN_SUCCESS', 'MachError', 'MIG_BAD_ARGUMENTS', 'MIG_BAD_ID'] },
    ...typeAliases(mod.routines, 'server'),
    implInterface(mod),
    ...demuxFactory(mod, cx),
  ];
  const emitted = {
    user: printSource(user),
    server: printSource(server),
    msgids: `${JSON.stringify(msgIds(mod, opts.sourceName), null, 2)}\n`,
  };
  if (cx.errors.length > 0) throw new CompileErrors(cx.errors);
  return emitted;
}
