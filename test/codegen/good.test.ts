/*
 * File: test/codegen/good.test.ts
 * Purpose: good input: every fixture in test/codegen/good/ (small interfaces written for
 *   these tests, covering every direction, type specification, attribute, flag and
 *   statement of the language) compiles with tsmig; its routines, ids and sizes are
 *   pinned here; and, when `x86_64-gnu-mig` is installed, tsmig's layout, routine and
 *   demux names, message ids range, imports, rcsid, mach_msg options and warnings equal
 *   what GNU MIG generates for the same file (skipped without MIG, failing in CI).
 */

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { MigModule } from '../../codegen/compile.js';
import { moduleLayout, type Layout } from '../../codegen/layout.js';
import { akbServerArg, akbUserArg, akCheck } from '../../codegen/routine.js';
import { compileFile } from '../../codegen/tsmig.js';
import { DEFAULT_DEFINES, requireMig, runMig, type MigRun } from '../conformance/mig/oracle.js';

const GOOD = fileURLToPath(new URL('./good/', import.meta.url));
const fixtures = readdirSync(GOOD).filter((f) => f.endsWith('.defs')).sort();
const DEFINES: Array<[string, string]> = DEFAULT_DEFINES.map(([k, v]) => [k, v]);
const HAVE_MIG = requireMig();

function compile(file: string): MigModule {
  return compileFile(join(GOOD, file), { defines: DEFINES });
}

function size(s: number | { min: number }): string {
  return typeof s === 'number' ? String(s) : `>=${s.min}`;
}

/** One line per routine: `number name id request-size reply-size`. */
function summary(layout: Layout): string[] {
  return layout.routines.map((r) =>
    `${r.number} ${r.kind === 'simpleroutine' ? 'simple ' : ''}${r.name} ${r.request.id} ${size(r.request.size)} ${r.reply ? size(r.reply.size) : '-'}`);
}

/** What each fixture compiles to (checked against GNU MIG when it is installed). */
const EXPECTED: Record<string, { subsystem: string; total: number; routines: string[]; warnings: number }> = {
  'arrays.defs': {
    subsystem: 'ledger 4300', total: 6, warnings: 0,
    routines: [
      '0 ledger_fixed 4300 4208 88',
      '1 ledger_bounded 4301 >=44 >=56',
      '2 ledger_unbounded 4302 >=56 >=60',
      '3 ledger_out_of_line 4303 64 72',
      '4 ledger_strings 4304 >=1072 >=1072',
      '5 simple ledger_inline 4305 >=56 -',
    ],
  },
  'attributes.defs': {
    subsystem: 'vault 4500', total: 4, warnings: 0,
    routines: ['0 vault_open 4500 40 48', '1 vault_peek 4501 32 52', '2 vault_swap 4502 52 48', '3 simple vault_drop 4503 40 -'],
  },
  'directions.defs': {
    subsystem: 'clockwork 4100', total: 7, warnings: 0,
    routines: [
      '0 clock_read 4100 40 48', '1 clock_adjust 4101 48 56', '2 clock_alarm 4102 40 40', '3 clock_sleep 4103 40 40',
      '4 clock_wait 4104 32 48', '5 clock_poll 4105 32 48', '6 simple clock_tick 4106 40 -',
    ],
  },
  'empty.defs': { subsystem: 'empty 0', total: 1, warnings: 0, routines: [] },
  'flags.defs': {
    subsystem: 'pager 4600', total: 5, warnings: 6,
    routines: [
      '0 pager_long 4600 368 >=44', '1 pager_supply 4601 132 40', '2 pager_copy 4602 >=76 40',
      '3 pager_info 4603 48 >=56', '4 simple pager_done 4604 56 -',
    ],
  },
  'ipc_types.defs': {
    subsystem: 'sensor 4200', total: 4, warnings: 1,
    routines: ['0 sensor_scalars 4200 100 60', '1 sensor_strings 4201 124 104', '2 sensor_rights 4202 56 64', '3 simple sensor_poly 4203 48 -'],
  },
  'kernel_server.defs': {
    subsystem: 'tally 5000', total: 2, warnings: 1,
    routines: ['0 tally_read 5000 32 >=84', '1 tally_give 5001 64 48'],
  },
  'kernel_user.defs': {
    subsystem: 'watchdog 4900', total: 2, warnings: 0,
    routines: ['0 simple watchdog_bark 4900 52 -', '1 watchdog_feed 4901 >=76 48'],
  },
  'macros.defs': {
    subsystem: 'lantern 5200', total: 4, warnings: 2,
    routines: ['0 lantern_light 5200 40 48', '1 lantern_text 5201 >=44 40', '2 simple lantern_light_async 5202 48 -', '3 simple lantern_text_async 5203 >=44 -'],
  },
  'mixed_case.defs': {
    subsystem: 'Lamp 5100', total: 7, warnings: 0,
    routines: ['0 Lamp_Set 5100 64 >=68', '1 simple Lamp_Name 5101 >=92 -', '2 lamp_reply 5102 32 40', '6 lamp_last 5106 32 40'],
  },
  'polymorphic.defs': {
    subsystem: 'relay 5300', total: 7, warnings: 0,
    routines: [
      '0 simple relay_reply 5300 40 -', '1 simple relay_ping 5301 32 -', '2 relay_ask 5302 32 48',
      '3 relay_pass 5303 40 48', '4 relay_bytes 5304 >=44 >=52', '5 relay_block 5305 52 68', '6 relay_rights 5306 >=52 >=56',
    ],
  },
  'skips.defs': {
    subsystem: 'counter 4800', total: 12, warnings: 0,
    routines: ['1 counter_get 4801 32 48', '5 simple counter_add 4805 40 -', '6 counter_reset 4806 32 40', '9 simple counter_bump 4809 32 -'],
  },
  'statements.defs': {
    subsystem: 'mailbox 4700', total: 5, warnings: 0,
    routines: ['0 mailbox_count 4700 32 48', '1 mailbox_fetch 4701 40 48', '2 simple mailbox_post 4702 40 -', '3 mailbox_clear 4703 32 40', '4 mailbox_close 4704 40 40'],
  },
  'structs.defs': {
    subsystem: 'geometry 4400', total: 3, warnings: 0,
    routines: ['0 geometry_move 4400 72 72', '1 geometry_pack 4401 64 84', '2 geometry_path 4402 >=56 52'],
  },
  'warnings.defs': {
    subsystem: 'junk 5400', total: 2, warnings: 25,
    routines: ['0 junk_one 5400 160 48', '1 junk_two 5401 32 40'],
  },
};

/** Constructs the fixtures must use between them (the brief's list), as regular expressions. */
const COVERAGE: Array<[string, RegExp]> = [
  ['in', /^\s*in\s+\w+\s*:/im], ['out', /^\s*out\s+\w+\s*:/im], ['inout', /^\s*inout\s+\w+\s*:/im],
  ['requestport', /\brequestport\s+\w+\s*:/i], ['replyport', /^\s*replyport\s+\w+\s*:/im],
  ['sreplyport', /\bsreplyport\s+\w+\s*:/i], ['ureplyport', /\bureplyport\s+\w+\s*:/i],
  ['waittime argument', /\bwaittime\s+\w+\s*:/i], ['msgoption argument', /\bmsgoption\s+\w+\s*:/i],
  ['msgseqno', /\bmsgseqno\s+\w+\s*:/i],
  ['short IPC decl', /=\s*MACH_MSG_TYPE_\w+\s*;/], ['long IPC decl', /=\s*\(MACH_MSG_TYPE_\w+\s*,/],
  ['A | B', /MACH_MSG_TYPE_\w+\s*\|\s*polymorphic/], ['polymorphic', /=\s*polymorphic\s*;/i],
  ['array[N]', /\barray\s*\[\s*\d+\s*\]\s*of/i], ['array[]', /\barray\s*\[\s*\]\s*of/i],
  ['array[*:N]', /\barray\s*\[\s*\*\s*:\s*\d+\s*\]/i], ['struct[N]', /\bstruct\s*\[\s*\d+\s*\]\s*of/i],
  ['struct {}', /\bstruct\s*\{/i], ['^', /\^\s*array/i], ['c_string[N]', /\bc_string\s*\[\s*\d+\s*\]/i],
  ['c_string[*:N]', /\bc_string\s*\[\s*\*\s*:/i], ['integer expression', /\d+\s*\*\s*\(\s*\d+\s*\+/],
  ['ctype', /\bctype\s*:/i], ['cusertype', /\bcusertype\s*:/i], ['cservertype', /\bcservertype\s*:/i],
  ['intran', /\bintran\s*:/i], ['outtran', /\bouttran\s*:/i], ['destructor', /\bdestructor\s*:/i],
  ['intranpayload', /\bintranpayload\s*:/i],
  ['IsLong', /,\s*IsLong\b/], ['IsNotLong', /,\s*IsNotLong\b/], ['Dealloc', /,\s*Dealloc\s*[;)\n]/i],
  ['Dealloc[]', /,\s*Dealloc\s*\[\s*\]/i], ['NotDealloc', /,\s*NotDealloc\b/i], ['ServerCopy', /,\s*ServerCopy\b/i],
  ['CountInOut', /,\s*CountInOut\b/i], ['RetCode', /,\s*RetCode\b/i],
  ['import', /^\s*import\s/m], ['uimport', /^\s*uimport\s/m], ['simport', /^\s*simport\s/m],
  ['serverprefix', /^\s*serverprefix\s/im], ['userprefix', /^\s*userprefix\s/im], ['serverdemux', /^\s*serverdemux\s/im],
  ['rcsid', /^\s*rcsid\s/m], ['msgoption statement', /^\s*msgoption\s+[\w$]+\s*;/im],
  ['waittime statement', /^\s*waittime\s+\w+\s*;/im], ['nowaittime', /^\s*nowaittime\s*;/im], ['error', /^\s*error\s+\w+\s*;/m],
  ['skip', /^\s*skip\s*;/im], ['skip N', /^\s*skip\s+\d+\s*;/im],
  ['KernelUser', /subsystem\s+KernelUser/i], ['KernelServer', /subsystem\s+KernelServer/i],
  ['mixed-case keywords', /^SubSystem\s/m], ['#define routine simpleroutine', /#define routine simpleroutine/],
  ['macro expanding to a clause', /#define \w+ intran:/],
];

describe('good .defs fixtures', () => {
  it('there are at least 12, and each has its expectations here', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(12);
    expect(fixtures).toEqual(Object.keys(EXPECTED).sort());
  });

  it('cover every direction, type specification, attribute, flag and statement', () => {
    const text = fixtures.map((f) => readFileSync(join(GOOD, f), 'utf8')).join('\n')
      + readdirSync(join(GOOD, 'include')).map((f) => readFileSync(join(GOOD, 'include', f), 'utf8')).join('\n');
    const missing = COVERAGE.filter(([, re]) => !re.test(text)).map(([what]) => what);
    expect(missing).toEqual([]);
  });

  for (const file of fixtures) {
    it(`${file} compiles to the expected routines, ids and sizes`, () => {
      const mod = compile(file);
      const exp = EXPECTED[file]!;
      expect(`${mod.subsystem.name} ${mod.subsystem.base}`).toBe(exp.subsystem);
      expect(mod.total).toBe(exp.total);
      expect(summary(moduleLayout(mod))).toEqual(exp.routines);
      expect(mod.warnings.length).toBe(exp.warnings);
    });
  }
});

// ==== the same fixtures through GNU MIG ===================================================

/** `#include` lines MIG always writes (not from import statements). */
const STANDARD_INCLUDES = new Set([
  '"H.h"', '<mach/boolean.h>', '<mach/kern_return.h>', '<mach/message.h>', '<mach/notify.h>', '<mach/mach_types.h>',
  '<mach/mig_errors.h>', '<mach/mig_support.h>', '<ipc/ipc_port.h>', '<kern/ipc_mig.h>', '<stdint.h>',
]);

function imports(c: string): string[] {
  return [...c.matchAll(/^#include (\S+)$/gm)].map((m) => m[1]!).filter((f) => !STANDARD_INCLUDES.has(f));
}

/** What MIG's C says beyond the layout: names, id range, imports, rcsid, mach_msg calls. */
interface MigFacts {
  userNames: string[];
  serverNames: string[];
  /** per routine: the user stub's and the server work function's parameter names, in order */
  userParams: string[];
  serverParams: string[];
  demux: string;
  maxId: number | null;
  userImports: string[];
  serverImports: string[];
  rcsid: string | null;
  /** per routine: `OPTIONS TIMEOUT` of the user stub's mach_msg call (KernelUser: the kernel call) */
  calls: string[];
}

/** The parameter names of a C parameter list (`T a, U *b` → a b; `void` → nothing). */
function paramNames(list: string): string {
  return list.split(',').map((p) => /(\w+)\s*$/.exec(p.trim())?.[1] ?? '?').filter((n) => n !== 'void').join(' ');
}

function migFacts(run: MigRun): MigFacts {
  const u = run.userC!;
  const s = run.serverC!;
  const calls = [...u.matchAll(/(?:mach_msg\(&InP->Head, ([^,]+), [^,]+, [^,]+, [^,]+, ([^,]+), MACH_PORT_NULL\)|(mach_msg_rpc_from_kernel|mach_msg_send_from_kernel)\()/g)]
    .map((m) => (m[3] ?? `${m[1]} ${m[2]}`));
  return {
    userNames: [...u.matchAll(/^mig_external kern_return_t (\w+)$/gm)].map((m) => m[1]!),
    serverNames: [...s.matchAll(/^\tmig_external kern_return_t (\w+)$/gm)].map((m) => m[1]!),
    userParams: [...u.matchAll(/^mig_external kern_return_t \w+\n\(([^)]*)\)/gm)].map((m) => paramNames(m[1]!)),
    serverParams: [...s.matchAll(/^\tmig_external kern_return_t \w+\n\t\t\(([^)]*)\);/gm)].map((m) => paramNames(m[1]!)),
    demux: /^mig_external boolean_t (\w+)$/m.exec(s)![1]!,
    maxId: /InP->msgh_id > (\d+)\)/.exec(s) ? Number(/InP->msgh_id > (\d+)\)/.exec(s)![1]) : null,
    userImports: imports(u),
    serverImports: imports(s),
    rcsid: /_user_rcsid\[\] = ("[^"]*");/.exec(u)?.[1] ?? null,
    calls,
  };
}

function ourFacts(mod: MigModule): MigFacts {
  const importsOf = (side: 'user' | 'server'): string[] =>
    mod.items.flatMap((i) => (i.kind === 'import' && (i.side === 'both' || i.side === side) ? [i.file] : []));
  return {
    userNames: mod.routines.map((r) => r.userName),
    serverNames: mod.routines.map((r) => r.serverName),
    userParams: mod.routines.map((r) => r.args.filter((a) => akCheck(a.kind, akbUserArg)).map((a) => a.name).join(' ')),
    serverParams: mod.routines.map((r) => r.args.filter((a) => akCheck(a.kind, akbServerArg)).map((a) => a.name).join(' ')),
    demux: mod.serverDemux,
    maxId: mod.subsystem.base + mod.total - 1,
    userImports: importsOf('user'),
    serverImports: importsOf('server'),
    rcsid: mod.rcsid,
    calls: mod.routines.map((r) => {
      if (mod.subsystem.kernelUser) return r.oneway ? 'mach_msg_send_from_kernel' : 'mach_msg_rpc_from_kernel';
      const option = r.msgOption!.varName!;
      if (r.oneway) return `MACH_SEND_MSG|${option} MACH_MSG_TIMEOUT_NONE`;
      return r.waitTime
        ? `MACH_SEND_MSG|MACH_RCV_MSG|${option}|MACH_RCV_TIMEOUT ${r.waitTime.varName!}`
        : `MACH_SEND_MSG|MACH_RCV_MSG|${option} MACH_MSG_TIMEOUT_NONE`;
    }),
  };
}

/** MIG's warning messages (`"FILE", line N: warning: MESSAGE`), sorted. */
function migWarnings(run: MigRun): string[] {
  return run.stderr.split('\n').flatMap((l) => {
    const m = /^"[^"]*", line \d+: warning: (.*)$/.exec(l);
    return m ? [m[1]!] : [];
  }).sort();
}

describe.skipIf(!HAVE_MIG)('good .defs fixtures: tsmig = GNU MIG', () => {
  for (const file of fixtures) {
    it(`${file}: same layout, names, ids, imports, options and warnings`, () => {
      const mig = runMig(join(GOOD, file), { includeDirs: [], defines: DEFINES });
      expect(mig.ok, `MIG rejects ${file}: ${mig.stderr}`).toBe(true);
      const mod = compile(file);
      expect(moduleLayout(mod)).toEqual(mig.layout);
      expect(ourFacts(mod)).toEqual(migFacts(mig));
      expect(mod.warnings.map((w) => w.message).sort()).toEqual(migWarnings(mig));
    });
  }
});
