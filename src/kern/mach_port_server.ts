/*
 * File: kern/mach_port_server.ts
 * Purpose: the kernel serves defs/mach_port.defs on task ports: the work functions of the
 *          generated mach_port demux, each the ipc/mach_port.ts call on the target task's
 *          space (GNU Mach ipc/mach_port.c behind its KernelServer stubs).
 *
 * Rights: `notify` (request_notification) and `poly` (insert_right) are naked rights the
 * work function takes only when the call succeeds; `previous` and the extracted `poly`
 * are naked rights moved into the reply.
 */

import { KERN_SUCCESS } from '../mach/kern_return.js';
import { MACH_MSG_TYPE_MOVE_SEND_ONCE } from '../mach/message.js';
import type { MachPort, MigResult } from '../mach/mig.js';
import {
  mach_port_allocate, mach_port_allocate_name, mach_port_clear_protected_payload, mach_port_deallocate,
  mach_port_destroy, mach_port_extract_right, mach_port_get_receive_status, mach_port_get_refs,
  mach_port_get_set_status, mach_port_insert_right, mach_port_mod_refs, mach_port_move_member, mach_port_names,
  mach_port_rename, mach_port_request_notification, mach_port_set_mscount, mach_port_set_protected_payload,
  mach_port_set_qlimit, mach_port_set_seqno, mach_port_type,
} from '../ipc/mach_port.js';
import type { IpcSpace } from '../ipc/space.js';
import { mach_port_server, type mach_port_routines } from '../gen/mach_port.server.js';
import type { KernelMsg } from './ipc_mig.js';
import { convert_port_to_task } from './task.js';

/** The generated mach_port demux over the kernel's implementation. */
export function mach_port_kernel_server(rt: KernelMsg): ReturnType<typeof mach_port_server> {
  const space = (task: MachPort): IpcSpace | null => convert_port_to_task(rt.peek(task))?.itk_space ?? null;
  const done = <T extends { kr: number }>(r: T): MigResult<Omit<T, 'kr'>> => (r.kr === KERN_SUCCESS ? r : r.kr);
  const impl: mach_port_routines = {
    mach_port_names: (task) => done(mach_port_names(space(task))),
    mach_port_type: (task, name) => done(mach_port_type(space(task), name)),
    mach_port_rename: (task, old_name, new_name) => mach_port_rename(space(task), old_name, new_name).kr,
    mach_port_allocate_name: (task, right, name) => mach_port_allocate_name(space(task), right, name).kr,
    mach_port_allocate: (task, right) => done(mach_port_allocate(space(task), right)),
    mach_port_destroy: (task, name) => mach_port_destroy(space(task), name).kr,
    mach_port_deallocate: (task, name) => mach_port_deallocate(space(task), name).kr,
    mach_port_get_refs: (task, name, right) => done(mach_port_get_refs(space(task), name, right)),
    mach_port_mod_refs: (task, name, right, delta) => mach_port_mod_refs(space(task), name, right, delta).kr,
    mach_port_set_qlimit: (task, name, qlimit) => mach_port_set_qlimit(space(task), name, qlimit).kr,
    mach_port_set_mscount: (task, name, mscount) => mach_port_set_mscount(space(task), name, mscount).kr,
    mach_port_get_set_status: (task, name) => done(mach_port_get_set_status(space(task), name)),
    mach_port_move_member: (task, member, after) => mach_port_move_member(space(task), member, after).kr,
    mach_port_request_notification(task, name, id, sync, notify) {
      const r = mach_port_request_notification(space(task), name, id, sync, rt.peek(notify));
      if (r.kr !== KERN_SUCCESS) return r.kr;
      rt.take(notify);
      return { previous: rt.right(r.previous), previousPoly: MACH_MSG_TYPE_MOVE_SEND_ONCE };
    },
    mach_port_insert_right(task, name, poly, polyPoly) {
      const r = mach_port_insert_right(space(task), name, rt.peek(poly), polyPoly);
      if (r.kr === KERN_SUCCESS) rt.take(poly);
      return r.kr;
    },
    mach_port_extract_right(task, name, msgt_name) {
      const r = mach_port_extract_right(space(task), name, msgt_name);
      if (r.kr !== KERN_SUCCESS) return r.kr;
      return { poly: rt.right(r.poly), polyPoly: r.polyPoly };
    },
    mach_port_get_receive_status(task, name) {
      const r = mach_port_get_receive_status(space(task), name);
      if (r.kr !== KERN_SUCCESS || r.status === null) return r.kr;
      const s = r.status;
      return {
        status: [s.mps_pset, s.mps_seqno, s.mps_mscount, s.mps_qlimit, s.mps_msgcount, s.mps_sorights,
          s.mps_srights ? 1 : 0, s.mps_pdrequest ? 1 : 0, s.mps_nsrequest ? 1 : 0],
      };
    },
    mach_port_set_seqno: (task, name, seqno) => mach_port_set_seqno(space(task), name, seqno).kr,
    mach_port_set_protected_payload: (task, name, payload) => mach_port_set_protected_payload(space(task), name, payload).kr,
    mach_port_clear_protected_payload: (task, name) => mach_port_clear_protected_payload(space(task), name).kr,
  };
  return mach_port_server(impl);
}
