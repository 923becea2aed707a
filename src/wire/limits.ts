/*
 * File: wire/limits.ts
 * Purpose: the limits every frame is checked against before the kernel touches its tables
 *          (docs/protocol.md, "Limits"). The defaults are generous: a legitimate task never
 *          meets them; a hostile or broken one is refused cheaply.
 *
 * `maxFrameBytes` is enforced by ws itself (`maxPayload`): a frame whose header announces
 * more is refused (close 1009) before its payload is read, so it is never allocated. The
 * other limits are checked on the decoded frame, before any kernel call.
 */

export interface WireLimits {
  /** bytes of one WebSocket frame (ws maxPayload): 64 MiB */
  maxFrameBytes: number;
  /** typed items in one message: 1,024 */
  maxItems: number;
  /** elements of one array item (integers or port names): 1,048,576 */
  maxArrayElements: number;
  /** bytes of in-line data (byte strings and strings) in one message: 16 MiB */
  maxInlineBytes: number;
  /** bytes of out-of-line data in one message: 64 MiB */
  maxOolBytes: number;
  /** calls of one task waiting in the kernel at once (blocked sends and receives): 16,384 */
  maxPendingCalls: number;
  /** answers queued to one task's socket before the kernel stops reading from it: 64 MiB */
  maxBufferedBytes: number;
  /** bytes of a task name given at connection: 256 */
  maxTaskName: number;
  /** tasks connected at once: 4,096 */
  maxConnections: number;
}

export const DEFAULT_LIMITS: Readonly<WireLimits> = Object.freeze({
  maxFrameBytes: 64 * 1024 * 1024,
  maxItems: 1024,
  maxArrayElements: 1024 * 1024,
  maxInlineBytes: 16 * 1024 * 1024,
  maxOolBytes: 64 * 1024 * 1024,
  maxPendingCalls: 16 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxTaskName: 256,
  maxConnections: 4096,
});

/** The defaults with some replaced; each given value must be a positive integer. */
export function wireLimits(overrides: Partial<WireLimits> = {}): WireLimits {
  const limits: WireLimits = { ...DEFAULT_LIMITS };
  for (const [key, value] of Object.entries(overrides) as Array<[keyof WireLimits, number | undefined]>) {
    if (value === undefined) continue;
    if (!(key in DEFAULT_LIMITS)) throw new TypeError(`unknown wire limit ${key}`);
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`wire limit ${key} must be a positive integer, not ${value}`);
    limits[key] = value;
  }
  return limits;
}
