/*
 * File: codegen/tsmig.ts
 * Purpose: tsmig as a library: compile a .defs file (preprocessor, parser, MIG's model),
 *          lay out its messages, and generate its TypeScript stubs.
 */

import { compilePreprocessed, type MigModule } from './compile.js';
import { preprocess, type CppOptions } from './cpp.js';
import { CompileError, CompileErrors } from './diagnostic.js';
import { emitModule, type Emitted, type EmitOptions } from './emit/index.js';
import { moduleLayout, type Layout } from './layout.js';

export type { MigModule } from './compile.js';
export type { Layout } from './layout.js';

export interface CompileOptions extends CppOptions {
  /** compile this text instead of reading `file` (which then only names it in diagnostics) */
  text?: string;
}

/** Compile one .defs file to its checked model. Throws CompileErrors (every error found). */
export function compileFile(file: string, options: CompileOptions = {}): MigModule {
  const cppOptions: CppOptions = { ...options };
  if (options.text !== undefined) {
    const text = options.text;
    const read = options.readFile;
    cppOptions.readFile = (p) => (p === file ? text : read ? read(p) : undefined);
  }
  let cpp;
  try {
    cpp = preprocess(file, cppOptions);
  } catch (e) {
    if (e instanceof CompileError) throw new CompileErrors([e]);
    throw e;
  }
  return compilePreprocessed(file, cpp.text, cpp.locate, cpp.files);
}

/** The message layout of a .defs file (what `tsmig layout` prints). */
export function layoutFile(file: string, options: CompileOptions = {}): Layout {
  return moduleLayout(compileFile(file, options));
}

/** Compile and generate X.user.ts, X.server.ts and X.msgids.json (in memory). */
export async function generateFile(file: string, options: CompileOptions & EmitOptions): Promise<Emitted> {
  return emitModule(compileFile(file, options), options);
}
