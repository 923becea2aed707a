/*
 * File: codegen/emit/msgids.ts
 * Purpose: `X.msgids.json`: message id → routine, for rpctrace-style tools and for the
 *          check that ids never change (retired routines become `skip`).
 */

import type { MigModule } from '../compile.js';

export interface MsgIds {
  subsystem: string;
  base: number;
  source: string;
  routines: Array<{ id: number; name: string; kind: 'routine' | 'simpleroutine'; reply: number | null }>;
}

export function msgIds(mod: MigModule, sourceName: string): MsgIds {
  const base = mod.subsystem.base;
  return {
    subsystem: mod.subsystem.name,
    base,
    source: sourceName,
    routines: [...mod.routines].sort((a, b) => a.number - b.number).map((rt) => ({
      id: base + rt.number,
      name: rt.name,
      kind: rt.oneway ? 'simpleroutine' : 'routine',
      reply: rt.oneway ? null : base + rt.number + 100,
    })),
  };
}
