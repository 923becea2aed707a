/*
 * File: ipc/index.ts
 * Purpose: the kernel IPC's public surface, one module per Mach concept.
 */

export * from './entry.js';
export * from './space.js';
export * from './port.js';
export * from './pset.js';
export * from './kmsg.js';
export * from './thread.js';
export * from './mqueue.js';
export * from './object.js';
export * from './right.js';
export * from './marequest.js';
export * from './notify.js';
export * from './kobject.js';
export * from './mach_msg.js';
export * from './mach_port.js';
export * from './stats.js';
