/*
 * File: test/conformance/ipc/task_process.ts
 * Purpose: a task's own process for the conformance suite's process world. It holds the
 *          task's connection to the kernel: the test's runtime connects to this process
 *          (a local WebSocket), and the process opens the kernel connection itself with
 *          the same admission headers, then passes frames both ways unchanged. The kernel's
 *          task is this process's connection: the process ending ends the task.
 *
 *   node --import tsx task_process.ts KERNEL_URL     prints {"url": "ws://127.0.0.1:N"}
 *
 * One task at a time; when its connection closes the process waits for the next.
 */

import { WebSocket, WebSocketServer } from 'ws';

const SUBPROTOCOL = 'tsmach.1';
const upstreamUrl = process.argv[2];
if (!upstreamUrl) throw new Error('usage: task_process.ts KERNEL_URL');

const wss = new WebSocketServer({
  host: '127.0.0.1', port: 0, maxPayload: 0, perMessageDeflate: false,
  handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
});

wss.on('connection', (local, req) => {
  const headers: Record<string, string> = {};
  for (const h of ['authorization', 'x-tsmach-ticket', 'x-tsmach-task']) {
    const v = req.headers[h];
    if (typeof v === 'string') headers[h] = v;
  }
  const kernel = new WebSocket(upstreamUrl, SUBPROTOCOL, { headers, perMessageDeflate: false, maxPayload: 0 });
  const early: Array<{ data: Buffer; binary: boolean }> = [];
  local.on('message', (data: Buffer, binary: boolean) => {
    if (kernel.readyState === WebSocket.OPEN) kernel.send(data, { binary });
    else early.push({ data, binary });
  });
  kernel.on('open', () => { for (const m of early.splice(0)) kernel.send(m.data, { binary: m.binary }); });
  kernel.on('message', (data: Buffer, binary: boolean) => local.send(data, { binary }));
  const closeBoth = (code: number, reason: Buffer | string): void => {
    const c = code >= 1000 && code <= 4999 && code !== 1005 && code !== 1006 ? code : 1000;
    if (local.readyState === WebSocket.OPEN) local.close(c, String(reason));
    if (kernel.readyState === WebSocket.OPEN || kernel.readyState === WebSocket.CONNECTING) kernel.close(c, String(reason));
  };
  kernel.on('close', closeBoth);
  local.on('close', closeBoth);
  kernel.on('error', (e) => closeBoth(1011, e.message.slice(0, 100)));
  local.on('error', () => closeBoth(1011, 'task side error'));
});

wss.on('listening', () => {
  const a = wss.address();
  const port = typeof a === 'object' && a !== null ? a.port : 0;
  process.stdout.write(`${JSON.stringify({ url: `ws://127.0.0.1:${port}` })}\n`);
});
// The test ends this process by closing its stdin (or killing it).
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
