/*
 * File: kern/connfile.ts
 * Purpose: the connection file and the token file: how tasks and tools find a running
 *          kernel process and prove they may attach to it (docs/protocol.md).
 *
 * `tsmach kernel` writes a random token to the token file (mode 0600, in a 0700
 * directory) and the connection file `{ url, tokenFile, pid, vmLevel }` next to it. The
 * default connection file is $TSMACH_CONNECTION if set, else
 * $XDG_RUNTIME_DIR/tsmach/kernel.json, else ~/.tsmach/kernel.json; the default token
 * file is `token` in the same directory, and the privileged-tool token file is the token
 * file's name with `.priv` appended. Files are written to a temporary name created
 * 0600 and renamed, so no other user ever sees them readable.
 */

import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export interface ConnectionInfo {
  /** ws://host:port of the kernel */
  url: string;
  /** where the token is (readable by its owner only) */
  tokenFile: string;
  /** the kernel process */
  pid: number;
  /** the kernel's VM behaviour level */
  vmLevel?: string;
}

/** The connection file tools and tasks read when told nothing else. */
export function defaultConnectionFile(env: NodeJS.ProcessEnv = process.env): string {
  if (env.TSMACH_CONNECTION) return env.TSMACH_CONNECTION;
  if (env.XDG_RUNTIME_DIR) return join(env.XDG_RUNTIME_DIR, 'tsmach', 'kernel.json');
  return join(homedir(), '.tsmach', 'kernel.json');
}

/** The token file that goes with a connection file. */
export function defaultTokenFile(connectionFile: string): string {
  return join(dirname(connectionFile), 'token');
}

/**
 * The privileged-tool token file that goes with a token file (`tsmach kernel` writes it,
 * 0600, unless --no-privileged-tools): tools that need host_priv (tsmach ps, vminfo)
 * present its token as their ticket.
 */
export function privilegedTokenFile(tokenFile: string): string {
  return `${tokenFile}.priv`;
}

/** A fresh token: 32 random bytes, hex. */
export function newToken(): string {
  return randomBytes(32).toString('hex');
}

/** Writes `text` to `path` readable by its owner only (0600; directory 0700 if created). */
export function writePrivateFile(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600, flag: 'wx' });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function writeConnectionFile(path: string, info: ConnectionInfo): void {
  writePrivateFile(path, `${JSON.stringify(info, null, 2)}\n`);
}

/** Reads a connection file. Throws an Error saying which file and what is wrong. */
export function readConnectionFile(path: string): ConnectionInfo {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new Error(`tsmach: no kernel connection file at ${path} (is \`tsmach kernel\` running?): ${(e as Error).message}`);
  }
  let info: unknown;
  try {
    info = JSON.parse(text);
  } catch {
    throw new Error(`tsmach: ${path} is not a kernel connection file (bad JSON)`);
  }
  const i = info as Partial<ConnectionInfo>;
  if (typeof i !== 'object' || i === null || typeof i.url !== 'string' || typeof i.tokenFile !== 'string') {
    throw new Error(`tsmach: ${path} is not a kernel connection file (url and tokenFile expected)`);
  }
  return { url: i.url, tokenFile: i.tokenFile, pid: Number(i.pid ?? 0), vmLevel: i.vmLevel };
}

export function readTokenFile(path: string): string {
  return readFileSync(path, 'utf8').trim();
}

/** Removes the files of a kernel that stops (only if they are still ours). */
export function removeConnectionFile(path: string, pid = process.pid): void {
  try {
    if (readConnectionFile(path).pid === pid) rmSync(path, { force: true });
  } catch {
    // already gone, or another kernel's
  }
}
