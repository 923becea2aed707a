/*
 * File: codegen/diagnostic.ts
 * Purpose: positions and errors shared by every tsmig phase (cpp, lexer, parser, model).
 *
 * Every error names the original file, line and column (1-based), after #include and
 * macro expansion: `FILE:LINE:COL: error: MESSAGE`, the format of gcc and of most
 * compilers (GNU MIG itself prints `"FILE", line N: MESSAGE`, one line off; we do better).
 */

export interface SourcePosition {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based */
  column: number;
}

export interface Diagnostic {
  pos: SourcePosition;
  severity: 'error' | 'warning';
  message: string;
}

export function formatDiagnostic(d: Diagnostic): string {
  return `${d.pos.file}:${d.pos.line}:${d.pos.column}: ${d.severity}: ${d.message}`;
}

/** A compile error at a source position. tsmig stops, writes nothing and exits 1. */
export class CompileError extends Error {
  readonly pos: SourcePosition;
  readonly diagnostic: string;
  constructor(pos: SourcePosition, message: string) {
    const d = formatDiagnostic({ pos, severity: 'error', message });
    super(d);
    this.name = 'CompileError';
    this.pos = pos;
    this.diagnostic = message;
  }
}

/** Errors collected from several phases (the parser recovers at `;` and goes on, as MIG does). */
export class CompileErrors extends Error {
  readonly errors: CompileError[];
  constructor(errors: CompileError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'CompileErrors';
    this.errors = errors;
  }
}
