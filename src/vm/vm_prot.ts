/*
 * File: vm/vm_prot.ts
 * Purpose: vm_prot_t and vm_inherit_t values (GNU Mach's mach/vm_prot.h, mach/vm_inherit.h).
 */

/** vm_prot_t: a bit set of READ, WRITE, EXECUTE (+ NOTIFY, a GNU Mach extension). */
export type vm_prot_t = number;

export const VM_PROT_NONE = 0;
export const VM_PROT_READ = 1;
export const VM_PROT_WRITE = 2;
export const VM_PROT_EXECUTE = 4;
export const VM_PROT_DEFAULT = VM_PROT_READ | VM_PROT_WRITE;
export const VM_PROT_ALL = VM_PROT_READ | VM_PROT_WRITE | VM_PROT_EXECUTE;
export const VM_PROT_NO_CHANGE = 8;
export const VM_PROT_NOTIFY = 0x10;

/** vm_inherit_t: what a child task gets of a range at fork. */
export type vm_inherit_t = number;

export const VM_INHERIT_SHARE = 0;
export const VM_INHERIT_COPY = 1;
export const VM_INHERIT_NONE = 2;
export const VM_INHERIT_DEFAULT = VM_INHERIT_COPY;

/** Whether `inheritance` is one of the three values vm_inherit and vm_map accept. */
export function vm_inherit_valid(inheritance: number): boolean {
  return inheritance === VM_INHERIT_SHARE || inheritance === VM_INHERIT_COPY || inheritance === VM_INHERIT_NONE;
}
