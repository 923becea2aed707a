/*
 * File: vm/vminfo.ts
 * Purpose: the Hurd's `vminfo` output (utils/vminfo.c; spec §5.2): one line per map entry,
 *          as printed by default and with -a, -s, -v, -d, -h, ADDR and SIZE.
 *
 * mem_obj=N is, in the real tool, the name vminfo's own IPC space gives to the send right
 * vm_region returns for the object's name port: the same port always gets the same name
 * while vminfo runs. VminfoNames plays that space: the first name seen gets `first`
 * (default 1), the next new one first + 1, and so on; keep one VminfoNames for a run.
 */

import { KERN_NO_SPACE, KERN_SUCCESS, kernReturnName } from '../mach/kern_return.js';
import type { VmMap } from './map.js';
import type { VmObjectName } from './object.js';
import type { VmRegionInfo } from './region.js';
import { vm_region } from './region.js';
import { vm_offset_add, vm_offset_max } from './vm_param.js';
import {
  VM_INHERIT_COPY,
  VM_INHERIT_DEFAULT,
  VM_INHERIT_NONE,
  VM_INHERIT_SHARE,
  VM_PROT_ALL,
  VM_PROT_EXECUTE,
  VM_PROT_READ,
  VM_PROT_WRITE,
} from './vm_prot.js';

/** vminfo's command line, minus the PID. */
export interface VminfoOptions {
  /** -a: print region start addresses. */
  addresses?: boolean;
  /** -s: print region sizes. */
  sizes?: boolean;
  /** -v: print details (protections, object, offset...). */
  verbose?: boolean;
  /** -d: decimal instead of hex. */
  decimal?: boolean;
  /** -h: print holes between regions. */
  holes?: boolean;
  /** ADDR: start here, and (without SIZE) show only the region at or after it. */
  addr?: number;
  /** SIZE: show the regions enclosing [ADDR, ADDR + SIZE]. Needs addr. */
  size?: number;
}

/** Port names for object name ports, stable for one vminfo run. */
export class VminfoNames {
  private readonly names = new Map<VmObjectName, number>();
  private next: number;

  constructor(first = 1) {
    this.next = first;
  }

  name(port: VmObjectName): number {
    let n = this.names.get(port);
    if (n === undefined) {
      n = this.next++;
      this.names.set(port, n);
    }
    return n;
  }
}

/* What vminfo prints about each region: W_ADDRS, W_SIZES, W_DETAILS. */
interface VminfoWhat {
  addrs: boolean;
  sizes: boolean;
  details: boolean;
}

function vminfo_what(options: VminfoOptions): VminfoWhat {
  if (!options.addresses && !options.sizes) return { addrs: true, sizes: true, details: true };
  return { addrs: !!options.addresses, sizes: !!options.sizes, details: !!options.verbose };
}

/* printf's %#x: 0x-prefixed hex, except 0 which prints as "0". */
function alt_hex(n: number): string {
  return n === 0 ? '0' : `0x${n.toString(16)}`;
}

/* A number as vminfo prints it: %#lx or %lu, right-aligned to `width` (0: no padding). */
function num(n: number, hex: boolean, width: number): string {
  return (hex ? alt_hex(n) : String(n)).padStart(width);
}

/** prot_rep: R, W, X in that order, "0" for none, and "+0x.." for bits beyond RWX. */
export function vminfo_prot_rep(prot: number): string {
  if (prot === 0) return '0';
  let s = '';
  if (prot & VM_PROT_READ) s += 'R';
  if (prot & VM_PROT_WRITE) s += 'W';
  if (prot & VM_PROT_EXECUTE) s += 'X';
  if (prot & ~VM_PROT_ALL) s += `+${alt_hex(prot & ~VM_PROT_ALL)}`;
  return s;
}

/** inh_rep: share, copy, none, or the number. */
export function vminfo_inh_rep(inheritance: number): string {
  switch (inheritance) {
    case VM_INHERIT_SHARE:
      return 'share';
    case VM_INHERIT_COPY:
      return 'copy';
    case VM_INHERIT_NONE:
      return 'none';
    default:
      return String(inheritance);
  }
}

/**
 * One region line, as vminfo prints it with these options (without the newline).
 * `names` gives mem_obj numbers.
 */
export function vminfo_region_line(region: VmRegionInfo, options: VminfoOptions, names: VminfoNames): string {
  const what = vminfo_what(options);
  const hex = !options.decimal;
  let line = '';
  if (what.addrs && what.sizes) line = `${num(region.address, hex, 10)}[${num(region.size, hex, 0)}]`;
  else if (what.addrs) line = num(region.address, hex, 10);
  else if (what.sizes) line = num(region.size, hex, 10);

  if (what.details) {
    line += ` (prot=${vminfo_prot_rep(region.protection)}`;
    if (region.max_protection !== region.protection) line += `, max_prot=${vminfo_prot_rep(region.max_protection)}`;
    if (region.inheritance !== VM_INHERIT_DEFAULT) line += `, inherit=${vminfo_inh_rep(region.inheritance)}`;
    if (region.is_shared) line += ', shared';
    if (region.object_name !== null) line += `, mem_obj=${names.name(region.object_name)}`;
    if (region.offset !== 0) line += `, offs=${num(region.offset, hex, 0)}`;
    line += ')';
  }
  return line;
}

/**
 * vminfo's main loop over `map`: vm_region from ADDR (or 0), one line per region, then
 * on past it, until KERN_NO_SPACE or past ADDR + SIZE. With holes, a "(hole)" line comes
 * before any region that does not start where the previous one (or ADDR) ended.
 * Returns: the lines, without newlines. Throws if vm_region fails otherwise (vminfo
 *   exits with an error).
 */
export function vminfo(map: VmMap, options: VminfoOptions = {}, names: VminfoNames = new VminfoNames()): string[] {
  const bits = map.word_bits;
  const what = vminfo_what(options);
  const hex = !options.decimal;
  let addr = options.addr ?? 0;
  let max_addr = vm_offset_max(bits);
  if (options.addr !== undefined) max_addr = vm_offset_add(bits, options.addr, options.size ?? 0);

  const lines: string[] = [];
  while (addr <= max_addr) {
    const hole_addr = addr;
    const { kr, region } = vm_region(map, addr);
    if (kr !== KERN_SUCCESS || region === null) {
      if (kr !== KERN_NO_SPACE) throw new Error(`vm_region: ${kernReturnName(kr)}`);
      break;
    }
    addr = region.address;

    if (options.holes && hole_addr !== addr) {
      if (what.addrs && what.sizes) lines.push(`          [${num(addr - hole_addr, hex, 0)}] (hole)`);
      else if (what.sizes && !what.addrs) lines.push(`${num(addr - hole_addr, hex, 10)} (hole)`);
    }
    lines.push(vminfo_region_line(region, options, names));
    addr = vm_offset_add(bits, addr, region.size);
  }
  return lines;
}
