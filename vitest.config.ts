import { defineConfig } from 'vitest/config';

// Suites kept apart (capnweb/ws habit): unit tests mirror src/ and codegen/, conformance
// suites compare against GNU MIG / GNU Mach behaviour, multiprocess suites boot real processes.
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts', 'test/codegen/**/*.test.ts'] } },
      { test: { name: 'conformance', include: ['test/conformance/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 } },
      { test: { name: 'multiprocess', include: ['test/multiprocess/**/*.test.ts'], testTimeout: 60_000, hookTimeout: 60_000 } },
    ],
  },
});
