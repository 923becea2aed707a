/*
 * File: tools/grep.ts
 * Purpose: `tsmach grep PATTERN -r PATH`: GNU grep 3.8's search, run as a Mach task that
 *          walks and reads the tree only through the ext2fs-like server (dir_lookup,
 *          dir_readdir, io_stat, io_read; never the host file system), and prints what
 *          GNU grep prints.
 *
 * Two ways to reach a server: by default the task connects to the running kernel (as
 * every task finds it: TSMACH_CONNECTION or the connection file of tsmach kernel/boot)
 * and looks the server's root up in the name service (`--server NAME`, default
 * "ext2fs", which src/servers/ext2fs/main.ts checks in); with `--image FILE.img` an
 * embedded kernel, an ext2fs task over the image and the grep task are made in this
 * process. `--summary FILE` writes what the search did (files, directories, bytes,
 * lines selected, time, messages sent) as JSON.
 *
 * Followed (GNU grep 3.8, src/grep.c; gnulib fts.c), so the output is GNU grep's byte for
 * byte on the same tree:
 *
 *  - Output: `FILE:LINE` (file names when several operands, or -r on a directory; -H/-h),
 *    `-n` line numbers, `-c` counts, `-l` names, `-v`, `-i`, `-w`, `-x`, `-F/-G/-E`, `-e`,
 *    `-s`, `-q`, `-a`, `--binary-files`. Exit status 0 (a line selected), 1 (none), 2 (an
 *    error, unless -q selected a line).
 *  - Binary files (grep 3.5+): a buffer holding a NUL turns the file binary from that
 *    buffer on: no more lines are printed (lines of earlier buffers were), NULs count as
 *    line ends, and if a line was selected after that, "grep: FILE: binary file matches" goes
 *    to standard error. A selected line that is not valid UTF-8 is not printed and gives
 *    the same message (UTF-8 locale). -c and -l count and list binary files silently.
 *  - Buffers: grep's read sizes are reproduced (96 KiB reads, less a page per page of
 *    line carried over, larger when a line outgrows the buffer; the buffer's address is
 *    taken 16 bytes past a page, as glibc's malloc gives it), since which lines print
 *    before a NUL depends on them. Files are read with io_read at the file pointer.
 *  - Recursion (-r: fts with FTS_PHYSICAL | FTS_NOSTAT, no sorting): each directory's
 *    entries in the order dir_readdir returns them (sorted by inode when a directory has
 *    more than 10,000, fts's FTS_INODE_SORT_DIR_ENTRIES_THRESHOLD), depth first. Entries of
 *    unknown type (the Hurd's ext2fs always says DT_UNKNOWN) and directories are lstat'ed
 *    (dir_lookup with O_NOLINK, io_stat); symlinks, devices, fifos and sockets met while
 *    recursing are skipped; files are opened with O_READ|O_NOLINK (grep's O_NOFOLLOW)
 *    and fstat'ed. Paths join as fts joins them ("dir/" + "f" is "dir/f"); with no operand
 *    "." is searched and "./" left off.
 *  - A directory operand without -r: "grep: DIR: Is a directory" (as on GNU/Linux, where
 *    read() fails with EISDIR; the Hurd's io_read would return the raw directory).
 *
 * Not supported: reading standard input, -R (following symlinks), context options,
 * -o, -m, -L, -f, --include/--exclude, colours.
 */

import { isUtf8 } from 'node:buffer';
import { writeFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';

import type { MachPort } from '../mach/mig.js';
import { MACH_SEND_MSG } from '../mach/message.js';
import { netname_look_up } from '../gen/netname.user.js';
import type { MachTask } from '../runtime/task.js';
import { connect } from '../transport/websocket.js';
import type { IpcPort } from '../ipc/port.js';
import { ipc_entry_lookup } from '../ipc/space.js';
import { createKernel } from '../kern/kernel.js';
import type { VmLevel } from '../vm/level.js';
import {
  file_name_lookup, fstat, HurdError, lookup_retry, port_close, read, readdir_all, type LookupContext,
} from '../servers/ext2fs/client.js';
import type { Dirent } from '../servers/ext2fs/dirent.js';
import { FileBlockSource } from '../servers/ext2fs/file_source.js';
import {
  DT_BLK, DT_CHR, DT_DIR, DT_FIFO, DT_LNK, DT_SOCK, DT_UNKNOWN, EISDIR, hurd_strerror, IFTODT, O_DIRECTORY,
  O_NOLINK, O_READ, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFSOCK,
} from '../servers/ext2fs/hurd_types.js';
import { Ext2Server, type Ext2ServerStats } from '../servers/ext2fs/server.js';
import type { IoStat } from '../servers/ext2fs/statbuf.js';

// ==== patterns ==========================================================================

/*
 * Patterns: GNU grep's pattern languages (BRE, ERE, fixed strings) turned into one
 * JavaScript RegExp (or a byte string for plain literals), with GNU's errors
 * and warnings for malformed patterns.
 *
 * BRE: `\( \)` groups, `\{m,n\}` intervals, `\|` `\+` `\?` (GNU extensions), `*` literal at
 * the start of an expression, `^` an anchor only at the start (of the pattern, after `\(`
 * or `\|`), `$` only at the end (or before `\)` / `\|`). ERE: `( ) { } | + ?` special;
 * a `{` that does not start a valid interval is literal, an unmatched `)` is literal, a
 * repetition at the start of an expression is ignored with a warning (as grep 3.8).
 * Both: bracket expressions with [:class:], [=c=], [.c.] and ranges (backslash literal
 * inside), `\w \W \s \S \b \B \< \> \` \'`, back-references `\1`-`\9`, `.`.
 *
 * Matching is done on lines decoded as UTF-8 with the `u` and `s` flags (a line is never
 * longer than itself, so `.` may match anything). Differences from glibc's regex remain in
 * corners: POSIX classes are approximated with Unicode properties, -i uses Unicode simple
 * case folding (glibc's towlower does not fold the Kelvin sign to k), and JS is
 * leftmost-first where POSIX is leftmost-longest (which does not change which lines match).
 */

export type PatternSyntax = 'basic' | 'extended' | 'fixed';

/** A pattern error: grep prints "grep: MESSAGE" and exits 2. */
export class GrepPatternError extends Error {}

const WORD = String.raw`[\p{Alphabetic}\p{Nd}_]`;
const NOT_WORD = String.raw`[^\p{Alphabetic}\p{Nd}_]`;

const CLASSES: Record<string, string> = {
  alpha: String.raw`\p{Alphabetic}`,
  digit: '0-9',
  alnum: String.raw`\p{Alphabetic}0-9`,
  upper: String.raw`\p{Uppercase}`,
  lower: String.raw`\p{Lowercase}`,
  space: String.raw`\s`,
  blank: String.raw`\t\p{Zs}`,
  punct: String.raw`\p{P}\p{S}`,
  cntrl: String.raw`\p{Cc}`,
  print: String.raw`\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}`,
  graph: String.raw`\p{L}\p{M}\p{N}\p{P}\p{S}`,
  xdigit: '0-9A-Fa-f',
};

/** A code point as a JS regex literal (safe inside and outside classes in `u` mode). */
function lit(cp: number): string {
  const c = String.fromCodePoint(cp);
  return /[A-Za-z0-9 _]/.test(c) ? c : `\\u{${cp.toString(16)}}`;
}

interface Frame {
  /** alternatives so far, each a list of pieces */
  alts: string[][];
  /** a piece list of the current alternative */
  pieces: string[];
  /** the last piece can take a repetition */
  canRepeat: boolean[];
  /** the last piece is already repeated */
  repeated: boolean[];
}

/**
 * Translate one pattern to a JS regex source. `groupBase`: capture groups before it
 * (patterns are joined, back-references renumbered). Returns the source and the number
 * of groups it opened. Throws GrepPatternError; pushes warnings.
 */
export function translatePattern(pat: string, syntax: 'basic' | 'extended', groupBase: number, warnings: string[]): { source: string; groups: number } {
  const ere = syntax === 'extended';
  const cps = Array.from(pat).map((c) => c.codePointAt(0)!);
  const n = cps.length;
  let i = 0;
  let groups = 0;
  const openGroups: number[] = [];
  const stack: Frame[] = [];
  let f: Frame = { alts: [], pieces: [], canRepeat: [], repeated: [] };
  const atExprStart = (): boolean => f.pieces.length === 0;
  const push = (s: string, canRepeat = true): void => {
    f.pieces.push(s);
    f.canRepeat.push(canRepeat);
    f.repeated.push(false);
  };
  const repeat = (q: string, what: string): void => {
    const k = f.pieces.length - 1;
    if (k < 0 || !f.canRepeat[k]) {
      if (ere) {
        warnings.push(`${what} at start of expression`);
        return; // ignored, as grep 3.8's ERE
      }
      push(lit(what.codePointAt(0)!)); // BRE: literal
      return;
    }
    const piece = f.repeated[k] ? `(?:${f.pieces[k]})` : f.pieces[k]!;
    f.pieces[k] = piece + q;
    f.repeated[k] = true;
  };
  const ch = (k: number): string => (k < n ? String.fromCodePoint(cps[k]!) : '');

  /** Parse an interval body at i (after `{` / `\{`); returns the quantifier or null if invalid. */
  const interval = (): { q: string; end: number } | null => {
    let k = i;
    let m = '';
    while (k < n && /[0-9]/.test(ch(k))) m += ch(k++);
    let hasComma = false;
    let mx = '';
    if (ch(k) === ',') {
      hasComma = true;
      k++;
      while (k < n && /[0-9]/.test(ch(k))) mx += ch(k++);
    }
    const close = ere ? ch(k) === '}' : ch(k) === '\\' && ch(k + 1) === '}';
    if (!close || (m === '' && !hasComma) || (m === '' && mx === '' && !ere)) return null;
    const lo = m === '' ? 0 : Number(m);
    const hi = mx === '' ? (hasComma ? Infinity : lo) : Number(mx);
    if (lo > 32767 || (hi !== Infinity && hi > 32767)) throw new GrepPatternError('Regular expression too big');
    if (hi < lo) throw new GrepPatternError(ere ? 'Invalid content of \\{\\}' : 'Invalid content of \\{\\}');
    const q = hi === Infinity ? `{${lo},}` : lo === hi ? `{${lo}}` : `{${lo},${hi}}`;
    return { q, end: k + (ere ? 1 : 2) };
  };

  const bracket = (): string => {
    // at i: just after '['
    let neg = false;
    if (ch(i) === '^') {
      neg = true;
      i++;
    }
    let body = '';
    let first = true;
    for (;;) {
      if (i >= n) throw new GrepPatternError('Unmatched [, [^, [:, [., or [=');
      const c = ch(i);
      if (c === ']' && !first) {
        i++;
        break;
      }
      first = false;
      let lo: number;
      if (c === '[' && (ch(i + 1) === ':' || ch(i + 1) === '=' || ch(i + 1) === '.')) {
        const kind = ch(i + 1);
        const end = pat.indexOf(`${kind}]`, byteIndex(cps, i + 2));
        if (end < 0) throw new GrepPatternError('Unmatched [, [^, [:, [., or [=');
        const endCp = cpIndex(pat, end);
        const name = cps.slice(i + 2, endCp).map((x) => String.fromCodePoint(x)).join('');
        i = endCp + 2;
        if (kind === ':') {
          const cls = CLASSES[name];
          if (cls === undefined) throw new GrepPatternError('Invalid character class name');
          body += cls;
          continue;
        }
        const cp = Array.from(name);
        if (cp.length !== 1) throw new GrepPatternError('Invalid collation character');
        lo = cp[0]!.codePointAt(0)!;
      } else {
        lo = cps[i]!;
        i++;
      }
      if (ch(i) === '-' && ch(i + 1) !== ']' && i + 1 < n) {
        i++;
        let hi: number;
        if (ch(i) === '[' && (ch(i + 1) === '=' || ch(i + 1) === '.')) {
          const kind = ch(i + 1);
          const end = pat.indexOf(`${kind}]`, byteIndex(cps, i + 2));
          if (end < 0) throw new GrepPatternError('Unmatched [, [^, [:, [., or [=');
          const endCp = cpIndex(pat, end);
          hi = cps[i + 2]!;
          i = endCp + 2;
        } else {
          hi = cps[i]!;
          i++;
        }
        if (hi < lo) throw new GrepPatternError('Invalid range end');
        body += `${lit(lo)}-${lit(hi)}`;
      } else {
        body += lit(lo);
      }
    }
    if (body === '') return neg ? '[^]' : '[]';
    return neg ? `[^${body}]` : `[${body}]`;
  };

  const closeAlt = (): void => {
    f.alts.push(f.pieces);
    f.pieces = [];
    f.canRepeat = [];
    f.repeated = [];
  };
  const frameSource = (fr: Frame): string => fr.alts.map((a) => a.join('')).join('|');

  while (i < n) {
    const c = ch(i);
    if (c === '\\') {
      if (i + 1 >= n) throw new GrepPatternError('Trailing backslash');
      const d = ch(i + 1);
      i += 2;
      if (!ere && d === '(') {
        openGroups.push(++groups);
        stack.push(f);
        f = { alts: [], pieces: [], canRepeat: [], repeated: [] };
        continue;
      }
      if (!ere && d === ')') {
        if (stack.length === 0) throw new GrepPatternError('Unmatched ) or \\)');
        closeAlt();
        const inner = frameSource(f);
        openGroups.pop();
        f = stack.pop()!;
        push(`(${inner})`);
        continue;
      }
      if (!ere && d === '|') {
        closeAlt();
        continue;
      }
      if (!ere && d === '{') {
        if (atExprStart() || !f.canRepeat[f.pieces.length - 1]) {
          push(lit(0x7b)); // a literal '{' where nothing can repeat
          continue;
        }
        const iv = interval();
        if (iv === null) throw new GrepPatternError('Unmatched \\{');
        i = iv.end;
        repeat(iv.q, '{...}');
        continue;
      }
      if (!ere && (d === '+' || d === '?')) {
        if (atExprStart()) push(lit(d.codePointAt(0)!));
        else repeat(d, d);
        continue;
      }
      if (d >= '1' && d <= '9') {
        const k = Number(d);
        if (k > groups || openGroups.includes(k)) throw new GrepPatternError('Invalid back reference');
        push(`(?:\\${groupBase + k})`);
        continue;
      }
      switch (d) {
        case 'w': push(WORD); continue;
        case 'W': push(NOT_WORD); continue;
        case 's': push(String.raw`\s`); continue;
        case 'S': push(String.raw`\S`); continue;
        case 'b': push(`(?:(?<=${WORD})(?!${WORD})|(?<!${WORD})(?=${WORD}))`, false); continue;
        case 'B': push(`(?:(?<=${WORD})(?=${WORD})|(?<!${WORD})(?!${WORD}))`, false); continue;
        case '<': push(`(?<!${WORD})(?=${WORD})`, false); continue;
        case '>': push(`(?<=${WORD})(?!${WORD})`, false); continue;
        case '`': push('^', false); continue;
        case "'": push('$', false); continue;
        default: push(lit(d.codePointAt(0)!)); continue; // an escaped character is itself
      }
    }
    if (c === '[') {
      i++;
      push(bracket());
      continue;
    }
    if (c === '.') {
      i++;
      push('.');
      continue;
    }
    if (c === '*') {
      i++;
      if (!ere && atExprStart()) push(lit(0x2a));
      else repeat('*', '*');
      continue;
    }
    if (c === '^') {
      i++;
      if (ere || atExprStart()) push('^', false);
      else push(lit(0x5e));
      continue;
    }
    if (c === '$') {
      i++;
      const atEnd = i >= n || (!ere && ch(i) === '\\' && (ch(i + 1) === ')' || ch(i + 1) === '|'));
      if (ere || atEnd) push('$', false);
      else push(lit(0x24));
      continue;
    }
    if (ere) {
      if (c === '(') {
        i++;
        openGroups.push(++groups);
        stack.push(f);
        f = { alts: [], pieces: [], canRepeat: [], repeated: [] };
        continue;
      }
      if (c === ')') {
        i++;
        if (stack.length === 0) {
          push(lit(0x29)); // an unmatched ')' is literal in GNU's ERE
          continue;
        }
        closeAlt();
        const inner = frameSource(f);
        openGroups.pop();
        f = stack.pop()!;
        push(`(${inner})`);
        continue;
      }
      if (c === '|') {
        i++;
        closeAlt();
        continue;
      }
      if (c === '+' || c === '?') {
        i++;
        repeat(c, c);
        continue;
      }
      if (c === '{') {
        i++;
        const iv = interval();
        if (iv === null) {
          push(lit(0x7b)); // not an interval: a literal '{'
          continue;
        }
        i = iv.end;
        repeat(iv.q, '{...}');
        continue;
      }
    }
    i++;
    push(lit(cps[i - 1]!));
  }
  if (stack.length > 0) throw new GrepPatternError('Unmatched ( or \\(');
  closeAlt();
  return { source: frameSource(f), groups };
}

/** Code-unit index of code point index k. */
function byteIndex(cps: number[], k: number): number {
  let u = 0;
  for (let j = 0; j < k && j < cps.length; j++) u += cps[j]! > 0xffff ? 2 : 1;
  return u;
}

/** Code point index of code-unit index u in s. */
function cpIndex(s: string, u: number): number {
  return Array.from(s.slice(0, u)).length;
}

/** How lines are selected. */
export interface CompiledPattern {
  /** The regex a line (decoded, without its newline) is tested with. */
  regex: RegExp;
  /** For plain literals: the bytes to search for (fast path), else null. */
  literal: Uint8Array | null;
  /** The empty line matches. */
  matchesEmpty: boolean;
}

const SPECIAL_BRE = /[\\[.*^$]/;
const SPECIAL_ERE = /[\\[.*^$+?{}()|]/;

function escapeLiteral(s: string): string {
  return Array.from(s).map((c) => lit(c.codePointAt(0)!)).join('');
}

/**
 * Compile grep's patterns (one per line of each -e argument). Throws GrepPatternError.
 */
export function compilePatterns(patterns: readonly string[], o: { syntax: PatternSyntax; ignoreCase: boolean; wordRegexp: boolean; lineRegexp: boolean }, warnings: string[]): CompiledPattern {
  const list = patterns.flatMap((p) => p.split('\n'));
  const sources: string[] = [];
  let groups = 0;
  for (const p of list) {
    if (o.syntax === 'fixed') {
      sources.push(escapeLiteral(p));
      continue;
    }
    const t = translatePattern(p, o.syntax, groups, warnings);
    groups += t.groups;
    sources.push(t.source);
  }
  let source = sources.length === 1 ? sources[0]! : sources.map((s) => `(?:${s})`).join('|');
  if (o.lineRegexp) source = `^(?:${source})$`;
  else if (o.wordRegexp) source = `(?<!${WORD})(?:${source})(?!${WORD})`;
  let regex: RegExp;
  try {
    regex = new RegExp(source, o.ignoreCase ? 'isu' : 'su');
  } catch (e) {
    throw new GrepPatternError(`Invalid regular expression (${(e as Error).message})`);
  }
  let literal: Uint8Array | null = null;
  if (list.length === 1 && !o.wordRegexp && !o.lineRegexp && list[0] !== '') {
    const p = list[0]!;
    const plain = o.syntax === 'fixed' || !(o.syntax === 'basic' ? SPECIAL_BRE : SPECIAL_ERE).test(p);
    const caseless = !o.ignoreCase || !/\p{L}/u.test(p);
    if (plain && caseless) literal = new TextEncoder().encode(p);
  }
  return { regex, literal, matchesEmpty: regex.test('') };
}

// ==== options ===========================================================================

export interface GrepOptions {
  patterns: string[];
  syntax: PatternSyntax;
  ignoreCase: boolean;
  invert: boolean;
  wordRegexp: boolean;
  lineRegexp: boolean;
  lineNumbers: boolean;
  count: boolean;
  filesWithMatches: boolean;
  quiet: boolean;
  noMessages: boolean;
  recursive: boolean;
  /** -H: true, -h: false, neither: undefined */
  withFilename: boolean | undefined;
  binaryFiles: 'binary' | 'text' | 'without-match';
  files: string[];
}

/** What the command line asked for, beyond grep's own options. */
export interface GrepCommand {
  options: GrepOptions;
  /** --image FILE: the ext2 image to serve (embedded); null: a running ext2fs server */
  image: string | null;
  /** --server NAME: the running server's name in the name service (default ext2fs) */
  server: string;
  /** --summary FILE: write what the search did (JSON) to FILE ('-': standard error) */
  summary: string | null;
  /** --stats: print the server's RPC counts to standard error */
  stats: boolean;
  /** --dtype: the server's d_type answer */
  dtype: 'unknown' | 'filetype';
  help: boolean;
}

const USAGE = 'Usage: grep [OPTION]... PATTERNS [FILE]...';
const TRY = "Try 'grep --help' for more information.";

export const GREP_HELP = `usage: tsmach grep [OPTION]... PATTERNS [FILE]... [--server NAME | --image FILE.img]
Search FILEs served by an ext2fs task, as GNU grep 3.8 does: a running ext2fs server
(looked up in the name service of the kernel this task connects to), or an ext2 image
served by an embedded kernel (--image).
  -r, --recursive           search directories recursively (fts order)
  -n, --line-number         print line numbers
  -i, --ignore-case         ignore case
  -c, --count               print a count of matching lines per file
  -l, --files-with-matches  print only the names of files with a match
  -v, --invert-match        select non-matching lines
  -w, --word-regexp         match whole words;  -x, --line-regexp  whole lines
  -F, -G, -E                fixed strings, basic (default) or extended regexps
  -e, --regexp=PATTERNS     use PATTERNS
  -H / -h                   always / never print file names
  -s, --no-messages         no messages about unreadable files
  -q, --quiet               print nothing; exit 0 on the first match
  -a, --text; --binary-files=binary|text|without-match
tsmach options:
  --server NAME             the ext2fs server's name in the name service (default ext2fs);
                            the kernel is found as every task finds it (TSMACH_CONNECTION,
                            the connection file of tsmach kernel/boot)
  --image FILE.img          the ext2 image (an embedded kernel, an ext2fs server task
                            over it and a grep client task are made)
  --summary FILE            write what the search did as JSON to FILE ('-': standard error)
  --dtype unknown|filetype  what the server's dir_readdir says in d_type (default unknown,
                            as the Hurd's ext2fs)
  --stats                   print the server's RPC counts to standard error`;

type OptKey = 'r' | 'n' | 'i' | 'no-i' | 'c' | 'l' | 'v' | 'F' | 'E' | 'G' | 'H' | 'h' | 's' | 'q' | 'w' | 'x' | 'e' | 'a' | 'I'
  | 'binary-files' | 'image' | 'stats' | 'dtype' | 'help' | 'R' | 'server' | 'summary';

const SHORT: Record<string, { key: OptKey; arg: boolean }> = {
  r: { key: 'r', arg: false }, R: { key: 'R', arg: false }, n: { key: 'n', arg: false }, i: { key: 'i', arg: false },
  y: { key: 'i', arg: false }, c: { key: 'c', arg: false }, l: { key: 'l', arg: false }, v: { key: 'v', arg: false },
  F: { key: 'F', arg: false }, E: { key: 'E', arg: false }, G: { key: 'G', arg: false }, H: { key: 'H', arg: false },
  h: { key: 'h', arg: false }, s: { key: 's', arg: false }, q: { key: 'q', arg: false }, w: { key: 'w', arg: false },
  x: { key: 'x', arg: false }, e: { key: 'e', arg: true }, a: { key: 'a', arg: false }, I: { key: 'I', arg: false },
};

const LONG: Array<[string, OptKey, boolean]> = [
  ['recursive', 'r', false], ['dereference-recursive', 'R', false], ['line-number', 'n', false],
  ['ignore-case', 'i', false], ['no-ignore-case', 'no-i', false], ['count', 'c', false],
  ['files-with-matches', 'l', false], ['invert-match', 'v', false], ['fixed-strings', 'F', false],
  ['extended-regexp', 'E', false], ['basic-regexp', 'G', false], ['with-filename', 'H', false],
  ['no-filename', 'h', false], ['no-messages', 's', false], ['quiet', 'q', false], ['silent', 'q', false],
  ['word-regexp', 'w', false], ['line-regexp', 'x', false], ['regexp', 'e', true], ['text', 'a', false],
  ['binary-files', 'binary-files', true], ['image', 'image', true], ['stats', 'stats', false],
  ['dtype', 'dtype', true], ['help', 'help', false], ['server', 'server', true], ['summary', 'summary', true],
];

/** A command-line error: grep prints `message` and exits 2. */
export class GrepUsageError extends Error {}

/**
 * Parse grep's command line as GNU getopt_long does (options anywhere until "--",
 * bundled short options, unambiguous long-option prefixes). Throws GrepUsageError.
 */
export function parseGrepArgs(argv: readonly string[]): GrepCommand {
  const o: GrepOptions = {
    patterns: [], syntax: 'basic', ignoreCase: false, invert: false, wordRegexp: false, lineRegexp: false,
    lineNumbers: false, count: false, filesWithMatches: false, quiet: false, noMessages: false, recursive: false,
    withFilename: undefined, binaryFiles: 'binary', files: [],
  };
  const cmd: GrepCommand = { options: o, image: null, server: 'ext2fs', summary: null, stats: false, dtype: 'unknown', help: false };
  let havePatterns = false;
  const operands: string[] = [];
  const apply = (key: OptKey, value: string | undefined, shown: string): void => {
    switch (key) {
      case 'r': o.recursive = true; break;
      case 'R': throw new GrepUsageError(`grep: ${shown}: following symlinks (-R) is not supported\n${USAGE}\n${TRY}`);
      case 'n': o.lineNumbers = true; break;
      case 'i': o.ignoreCase = true; break;
      case 'no-i': o.ignoreCase = false; break;
      case 'c': o.count = true; break;
      case 'l': o.filesWithMatches = true; break;
      case 'v': o.invert = true; break;
      case 'F': o.syntax = 'fixed'; break;
      case 'E': o.syntax = 'extended'; break;
      case 'G': o.syntax = 'basic'; break;
      case 'H': o.withFilename = true; break;
      case 'h': o.withFilename = false; break;
      case 's': o.noMessages = true; break;
      case 'q': o.quiet = true; break;
      case 'w': o.wordRegexp = true; break;
      case 'x': o.lineRegexp = true; break;
      case 'a': o.binaryFiles = 'text'; break;
      case 'I': o.binaryFiles = 'without-match'; break;
      case 'e': o.patterns.push(value!); havePatterns = true; break;
      case 'binary-files':
        if (value !== 'binary' && value !== 'text' && value !== 'without-match') throw new GrepUsageError('grep: unknown binary-files type');
        o.binaryFiles = value;
        break;
      case 'image': cmd.image = value!; break;
      case 'server': cmd.server = value!; break;
      case 'summary': cmd.summary = value!; break;
      case 'stats': cmd.stats = true; break;
      case 'dtype':
        if (value !== 'unknown' && value !== 'filetype') throw new GrepUsageError(`grep: --dtype: unknown or filetype, not '${value}'`);
        cmd.dtype = value;
        break;
      case 'help': cmd.help = true; break;
    }
  };
  for (let k = 0; k < argv.length; k++) {
    const a = argv[k]!;
    if (a === '--') {
      operands.push(...argv.slice(k + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = a.slice(2, eq < 0 ? undefined : eq);
      const exact = LONG.find(([n]) => n === name);
      const cands = exact ? [exact] : LONG.filter(([n]) => n.startsWith(name));
      const keys = new Set(cands.map(([, key]) => key));
      if (cands.length === 0) throw new GrepUsageError(`grep: unrecognized option '${a}'\n${USAGE}\n${TRY}`);
      if (keys.size > 1) {
        throw new GrepUsageError(`grep: option '${a.slice(0, eq < 0 ? undefined : eq)}' is ambiguous; possibilities:${cands.map(([n]) => ` '--${n}'`).join('')}\n${USAGE}\n${TRY}`);
      }
      const [full, key, hasArg] = cands[0]!;
      let value: string | undefined;
      if (hasArg) {
        if (eq >= 0) value = a.slice(eq + 1);
        else if (k + 1 < argv.length) value = argv[++k]!;
        else throw new GrepUsageError(`grep: option '--${full}' requires an argument\n${USAGE}\n${TRY}`);
      } else if (eq >= 0) {
        throw new GrepUsageError(`grep: option '--${full}' doesn't allow an argument\n${USAGE}\n${TRY}`);
      }
      apply(key, value, `--${full}`);
      continue;
    }
    if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const c = a[j]!;
        const s = SHORT[c];
        if (s === undefined) throw new GrepUsageError(`grep: invalid option -- '${c}'\n${USAGE}\n${TRY}`);
        if (s.arg) {
          let value: string;
          if (j + 1 < a.length) value = a.slice(j + 1);
          else if (k + 1 < argv.length) value = argv[++k]!;
          else throw new GrepUsageError(`grep: option requires an argument -- '${c}'\n${USAGE}\n${TRY}`);
          apply(s.key, value, `-${c}`);
          break;
        }
        apply(s.key, undefined, `-${c}`);
      }
      continue;
    }
    operands.push(a);
  }
  if (cmd.help) return cmd;
  if (!havePatterns) {
    if (operands.length === 0) throw new GrepUsageError(`${USAGE}\n${TRY}`);
    o.patterns.push(operands.shift()!);
  }
  o.files = operands;
  return cmd;
}

// ==== the search ========================================================================

/** Where grep's output goes. */
export interface GrepOutput {
  stdout(bytes: Uint8Array): void;
  stderr(text: string): void;
}

/** What one search did (for tools that report it: the demo, the benchmark). */
export interface GrepStats {
  /** regular files searched (grepdesc) */
  files: number;
  /** directories read */
  directories: number;
  /** bytes read from files */
  bytes: number;
  /** lines selected, over all files */
  selected: number;
}

/** A GrepStats at zero. */
export function newGrepStats(): GrepStats {
  return { files: 0, directories: 0, bytes: 0, selected: 0 };
}

/** -q found a line: stop everything. */
class QuietExit extends Error {}

const PAGESIZE = 4096;
const UWORD = 8;
/** GNU grep's INITIAL_BUFSIZE. */
const INITIAL_BUFSIZE = 96 * 1024;
/** Where grep's malloc'd buffer starts within its page (glibc's chunk header: 16 bytes). */
export const GREP_BUFFER_PAGE_OFFSET = 16;
/** gnulib fts sorts a directory's entries by inode above this many. */
export const FTS_INODE_SORT_DIR_ENTRIES_THRESHOLD = 10000;
const NL = 0x0a;

const alignUp = (x: number): number => Math.ceil(x / PAGESIZE) * PAGESIZE;
const enc = new TextEncoder();

function isDirMode(m: number): boolean {
  return (m & S_IFMT) === S_IFDIR;
}

function isDeviceMode(m: number): boolean {
  const t = m & S_IFMT;
  return t === S_IFCHR || t === S_IFBLK || t === S_IFSOCK || t === S_IFIFO;
}

/** fts_open's root name: more than one trailing slash trimmed to one. */
export function ftsRootPath(arg: string): string {
  let len = arg.length;
  if (2 < len && arg[len - 1] === '/') while (1 < len && arg[len - 2] === '/') --len;
  return arg.slice(0, len);
}

/** fts's child path: the parent's path (less one trailing '/'), '/', the name. */
export function ftsChildPath(parent: string, name: string): string {
  const len = parent.endsWith('/') ? parent.length - 1 : parent.length;
  return `${parent.slice(0, len)}/${name}`;
}

/**
 * One grep run over a file system reached through `ctx` (the client task's root and
 * working directories). Returns grep's exit status.
 */
export async function grep(options: GrepOptions, ctx: LookupContext, out: GrepOutput, stats: GrepStats = newGrepStats()): Promise<number> {
  let pattern: CompiledPattern;
  const warnings: string[] = [];
  try {
    pattern = compilePatterns(options.patterns, options, warnings);
  } catch (e) {
    if (e instanceof GrepPatternError) {
      for (const w of warnings) out.stderr(`grep: warning: ${w}\n`);
      out.stderr(`grep: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  for (const w of warnings) out.stderr(`grep: warning: ${w}\n`);
  const run = new GrepRun(options, pattern, ctx, out, stats);
  try {
    return await run.main();
  } catch (e) {
    if (e instanceof QuietExit) return 0;
    throw e;
  } finally {
    run.flush();
  }
}

class GrepRun {
  private errseen = false;
  private matched = false;
  /** 1: print file names, 0: not, -1: decide on the (only) operand: a directory or not. */
  private outFile: number;
  private omitDotSlash = false;
  private readonly outQuiet0: boolean;
  private readonly doneOnMatch0: boolean;
  private readonly skipEmptyLines: boolean;
  private readonly chunks: Uint8Array[] = [];
  private pendingBytes = 0;
  // grep's buffer, kept from file to file as grep keeps it (only its size and address matter).
  private buffer = 0x1000000 + GREP_BUFFER_PAGE_OFFSET;
  private bufalloc = alignUp(INITIAL_BUFSIZE) + PAGESIZE + UWORD;

  constructor(
    private readonly o: GrepOptions,
    private readonly pat: CompiledPattern,
    private readonly ctx: LookupContext,
    private readonly output: GrepOutput,
    private readonly stats: GrepStats,
  ) {
    const nOperands = o.files.length;
    if (o.withFilename !== undefined) this.outFile = o.withFilename ? 1 : 0;
    else if (nOperands > 1) this.outFile = 1;
    else this.outFile = o.recursive ? -1 : 0;
    const listing = o.filesWithMatches || o.quiet;
    this.outQuiet0 = o.count || listing;
    this.doneOnMatch0 = listing;
    this.skipEmptyLines = pat.matchesEmpty === o.invert;
  }

  async main(): Promise<number> {
    let files = this.o.files;
    if (files.length === 0) {
      if (!this.o.recursive) {
        this.output.stderr('grep: reading standard input is not supported (give a FILE)\n');
        return 2;
      }
      files = ['.'];
      this.omitDotSlash = true;
    }
    for (const f of files) await this.grepfile(null, f, f);
    this.flush();
    return this.errseen ? 2 : this.matched ? 0 : 1;
  }

  // ---- output ----

  private write(b: Uint8Array): void {
    this.chunks.push(b);
    this.pendingBytes += b.length;
    if (this.pendingBytes >= 1 << 16) this.flush();
  }

  private writeStr(s: string): void {
    this.write(enc.encode(s));
  }

  flush(): void {
    if (this.chunks.length === 0) return;
    const all = Buffer.concat(this.chunks);
    this.chunks.length = 0;
    this.pendingBytes = 0;
    this.output.stdout(all);
  }

  /** The name grep prints for `path` (no "./" when searching the implicit "."). */
  private shown(path: string): string {
    return this.omitDotSlash && path.startsWith('./') && path.length > 2 ? path.slice(2) : path;
  }

  private suppressible(path: string, code: number): void {
    if (!this.o.noMessages) {
      this.flush();
      this.output.stderr(`grep: ${this.shown(path)}: ${hurd_strerror(code)}\n`);
    }
    this.errseen = true;
  }

  private errorCode(e: unknown): number {
    if (e instanceof HurdError) return e.code;
    throw e;
  }

  // ---- walking ----

  /** fts_build + fts_read over one directory, depth first, as grep -r sees it. */
  private async walk(dir: MachPort, path: string, ancestors: Set<number>): Promise<void> {
    let entries: Dirent[];
    try {
      entries = (await readdir_all(dir)).filter((e) => e.name !== '.' && e.name !== '..');
      this.stats.directories++;
    } catch (e) {
      this.suppressible(path, this.errorCode(e));
      return;
    }
    if (entries.length > FTS_INODE_SORT_DIR_ENTRIES_THRESHOLD) entries.sort((a, b) => a.ino - b.ino);
    for (const e of entries) {
      const child = ftsChildPath(path, e.name);
      let type = e.type;
      let st: IoStat | null = null;
      if (type === DT_UNKNOWN || type === DT_DIR) {
        // fts_stat: lstat (the name without following a symlink).
        try {
          const p = await lookup_retry(this.ctx, dir, e.name, O_NOLINK);
          try {
            st = await fstat(p);
          } finally {
            await port_close(p);
          }
        } catch (err) {
          this.suppressible(child, this.errorCode(err));
          continue;
        }
        type = IFTODT(st.st_mode);
      }
      if (type === DT_DIR) {
        if (ancestors.has(st!.st_ino)) {
          if (!this.o.noMessages) {
            this.flush();
            this.output.stderr(`grep: ${this.shown(child)}: warning: recursive directory loop\n`);
          }
          continue;
        }
        let sub: MachPort;
        try {
          sub = await lookup_retry(this.ctx, dir, e.name, O_READ | O_DIRECTORY | O_NOLINK);
        } catch (err) {
          this.suppressible(child, this.errorCode(err));
          continue;
        }
        try {
          await this.walk(sub, child, new Set([...ancestors, st!.st_ino]));
        } finally {
          await port_close(sub);
        }
        continue;
      }
      if (type === DT_LNK) continue; // FTS_SL: not followed under -r
      if (type === DT_CHR || type === DT_BLK || type === DT_FIFO || type === DT_SOCK) continue; // devices: skipped
      await this.grepfile(dir, e.name, child);
    }
  }

  /**
   * grepfile(dirdesc, name, follow, command_line): a command-line operand (dir null: looked
   * up from the working directory, symlinks followed) or a name met while recursing in
   * `dir` (opened with O_NOLINK, grep's O_NOFOLLOW), opened and searched; `path` is the
   * name grep shows.
   */
  private async grepfile(dir: MachPort | null, name: string, path: string): Promise<void> {
    let port: MachPort;
    try {
      port = dir === null ? await file_name_lookup(this.ctx, name, O_READ) : await lookup_retry(this.ctx, dir, name, O_READ | O_NOLINK);
    } catch (e) {
      this.suppressible(path, this.errorCode(e));
      return;
    }
    try {
      await this.grepdesc(port, path, dir === null);
    } finally {
      await port_close(port);
    }
  }

  /**
   * grepdesc: fstat the open file; a command-line directory is walked (-r) or refused, a
   * symlink, directory or device met while recursing is skipped; else search it, then print
   * its count / name.
   */
  private async grepdesc(port: MachPort, path: string, commandLine: boolean): Promise<void> {
    let st: IoStat;
    try {
      st = await fstat(port);
    } catch (e) {
      this.suppressible(path, this.errorCode(e));
      return;
    }
    if (commandLine) {
      if (this.outFile < 0) this.outFile = isDirMode(st.st_mode) ? 1 : 0;
      if (isDirMode(st.st_mode)) {
        if (this.o.recursive) await this.walk(port, ftsRootPath(path), new Set([st.st_ino]));
        else this.suppressible(path, EISDIR);
        return;
      }
    } else {
      if ((st.st_mode & S_IFMT) === S_IFLNK) return; // O_NOFOLLOW met a symlink: ELOOP, silently skipped
      if (isDirMode(st.st_mode) || isDeviceMode(st.st_mode)) return;
    }
    const name = this.shown(path);
    this.stats.files++;
    const count = await this.grepBuffer(port, st, name);
    this.stats.selected += count;
    if (this.o.count && !this.o.filesWithMatches && !this.o.quiet) {
      if (this.outFile > 0) this.writeStr(`${name}:`);
      this.writeStr(`${count}\n`);
    }
    if (count > 0) {
      this.matched = true;
      if (this.o.filesWithMatches && !this.o.quiet) this.writeStr(`${name}\n`);
    }
  }

  /** grep(): the buffer loop of one file. Returns the lines selected (a read error is reported). */
  private async grepBuffer(port: MachPort, st: IoStat, name: string): Promise<number> {
    const o = this.o;
    const textMode = o.binaryFiles === 'text';
    // reset()
    let bufbeg = alignUp(this.buffer + 1);
    let data: Buffer = Buffer.alloc(0); // the bytes of [bufbeg, buflim)
    let bufoffset = 0;
    let totalnl = 0;
    let lastnl = 0;
    let nlines = 0;
    let nlinesFirstNull = -1;
    let residue = 0;
    let save = 0;
    let outQuiet = this.outQuiet0;
    let doneOnMatch = this.doneOnMatch0;
    let encodingErrorOutput = false;
    let zap = false;
    let skipNuls = false;
    let readError = 0;
    const usableSize = (st.st_mode & S_IFMT) !== S_IFDIR;

    /** fillbuf(save): keep the last `save` bytes, read the next buffer's worth. */
    const fillbuf = async (keep: number): Promise<boolean> => {
      const buflim = bufbeg + data.length;
      const minAfter = PAGESIZE + UWORD;
      let readbuf: number;
      if (minAfter <= this.buffer + this.bufalloc - buflim) {
        readbuf = buflim;
      } else {
        const minsize = keep + PAGESIZE;
        const incrMin = minsize - this.bufalloc + minAfter;
        if (incrMin > 0) {
          let allocMax = -1;
          if (usableSize) {
            const toBeRead = st.st_size - bufoffset;
            if (toBeRead >= 0) allocMax = Math.max(toBeRead + keep + minAfter, this.bufalloc + incrMin);
          }
          let n = this.bufalloc + (this.bufalloc >> 1); // xpalloc: grow by half
          if (allocMax >= 0 && allocMax < n) n = allocMax;
          if (n - this.bufalloc < incrMin) n = this.bufalloc + incrMin;
          this.bufalloc = n;
          this.buffer = alignUp(this.buffer + 1) + 0x100000 + GREP_BUFFER_PAGE_OFFSET; // a new malloc
        }
        readbuf = alignUp(this.buffer + 1 + keep);
      }
      let readsize = this.buffer + this.bufalloc - UWORD - readbuf;
      readsize -= readsize % PAGESIZE;
      let chunk: Uint8Array;
      let ok = true;
      for (;;) {
        try {
          chunk = await read(port, readsize);
        } catch (e) {
          readError = this.errorCode(e);
          chunk = new Uint8Array(0);
          ok = false;
        }
        bufoffset += chunk.length;
        this.stats.bytes += chunk.length;
        if (chunk.length === 0 || !skipNuls || !allZeros(chunk)) break;
        totalnl += chunk.length; // a run of NULs in a binary file: empty lines, skipped
      }
      const kept = data.subarray(data.length - keep);
      data = Buffer.concat([kept, chunk]);
      bufbeg = readbuf - keep;
      return ok;
    };

    const nlscan = (lim: number): void => {
      for (let k = data.indexOf(NL, lastnl); k >= 0 && k < lim; k = data.indexOf(NL, k + 1)) totalnl++;
      lastnl = lim;
    };

    /** prline: one selected line [beg, end) (end after its newline). */
    const prline = (beg: number, end: number): void => {
      if (!textMode && !isUtf8(data.subarray(beg, end - 1))) {
        encodingErrorOutput = true; // print_line_head: not printed
        return;
      }
      let head = '';
      if (this.outFile > 0) head += `${name}:`;
      if (o.lineNumbers) {
        nlscan(beg);
        totalnl++;
        head += `${totalnl}:`;
        lastnl = end;
      }
      if (head !== '') this.writeStr(head);
      this.write(data.subarray(beg, end));
    };

    /** prtext: the selected lines [beg, lim); returns their number. */
    const prtext = (beg: number, lim: number): number => {
      let n = 0;
      for (let p = beg; p < lim; n++) {
        const nl = data.indexOf(NL, p);
        const end = nl + 1;
        if (!outQuiet) prline(p, end);
        p = end;
      }
      return n;
    };

    /** grepbuf: select lines in [beg, lim); returns how many. */
    const grepbuf = (beg: number, lim: number): number => {
      let n = 0;
      let p = beg;
      while (p < lim) {
        const m = this.nextMatch(data, p, lim);
        if (!o.invert) {
          if (m < 0) break;
          const e = data.indexOf(NL, m) + 1;
          n += prtext(m, e);
          if (doneOnMatch) {
            if (o.quiet) throw new QuietExit();
            break;
          }
          p = e;
        } else {
          const b = m < 0 ? lim : m;
          if (p < b) {
            n += prtext(p, b);
            if (doneOnMatch) {
              if (o.quiet) throw new QuietExit();
              break;
            }
          }
          if (m < 0) break;
          p = data.indexOf(NL, m) + 1;
        }
      }
      return n;
    };

    if (!(await fillbuf(save))) {
      this.suppressible(name, readError);
      return 0;
    }
    let finished = false;
    for (;;) {
      if (nlinesFirstNull < 0 && !textMode && data.includes(0)) {
        if (o.binaryFiles === 'without-match') return 0;
        if (!o.count) {
          outQuiet = true;
          doneOnMatch = true;
        }
        nlinesFirstNull = nlines;
        zap = true;
        skipNuls = this.skipEmptyLines;
      }
      lastnl = 0;
      let beg = save;
      if (beg === data.length) break; // no more data: only the residue is left
      if (zap) for (let k = data.indexOf(0, beg); k >= 0; k = data.indexOf(0, k + 1)) data[k] = NL;
      // The residue: the incomplete line at the end of the buffer.
      const lastEol = data.lastIndexOf(NL);
      let lim = lastEol >= beg ? lastEol + 1 : beg;
      if (lim === beg) lim = beg - residue;
      beg -= residue;
      residue = data.length - lim;
      if (beg < lim) {
        nlines += grepbuf(beg, lim);
        if (doneOnMatch && Math.max(0, nlinesFirstNull) < nlines) {
          finished = true;
          break;
        }
      }
      if (o.lineNumbers) nlscan(lim);
      save = residue;
      if (!(await fillbuf(save))) {
        this.suppressible(name, readError);
        finished = true;
        break;
      }
    }
    if (!finished && residue > 0) {
      // The last line has no newline: grep adds one.
      data = Buffer.concat([data, Buffer.from([NL])]);
      nlines += grepbuf(data.length - 1 - residue, data.length);
    }
    // finish_grep
    if (o.binaryFiles === 'binary' && !this.outQuiet0 && (encodingErrorOutput || (nlinesFirstNull >= 0 && nlinesFirstNull < nlines))) {
      this.flush();
      this.output.stderr(`grep: ${name}: binary file matches\n`);
    }
    return nlines;
  }

  /** The start of the next line in [from, to) that matches the patterns, or -1. */
  private nextMatch(data: Buffer, from: number, to: number): number {
    const lit = this.pat.literal;
    if (lit !== null) {
      const k = data.indexOf(lit, from);
      if (k < 0 || k >= to) return -1;
      const lineStart = k === 0 ? 0 : data.lastIndexOf(NL, k - 1) + 1;
      return Math.max(lineStart, from);
    }
    const re = this.pat.regex;
    for (let p = from; p < to;) {
      const nl = data.indexOf(NL, p);
      if (re.test(data.toString('utf8', p, nl))) return p;
      p = nl + 1;
    }
    return -1;
  }
}

function allZeros(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

// ==== the command ========================================================================

/** An embedded system serving an image: kernel, ext2fs task, a client task. */
export interface ImageSession {
  server: Ext2Server;
  /** The client's root and working directory (its bootstrap port: the server's root). */
  ctx: LookupContext;
  close(): Promise<void>;
}

/**
 * The embedded setup `--image` makes: a kernel, an ext2fs server task over the image
 * file, and a client task whose bootstrap port is a send right to the server's root
 * directory (test-only plumbing until the name service and multi-process boot exist).
 */
export async function openImageSession(image: string, options: { dtype?: 'unknown' | 'filetype'; vmLevel?: VmLevel } = {}): Promise<ImageSession> {
  const kernel = createKernel({ vmLevel: options.vmLevel });
  const serverTask = kernel.createTask('ext2fs');
  const src = await FileBlockSource.open(image, { sync: true });
  let server: Ext2Server;
  try {
    server = await Ext2Server.openImage(serverTask, src, { dtype: options.dtype });
  } catch (e) {
    await src.close();
    kernel.shutdown();
    throw e;
  }
  await server.start();
  const rootName = await server.getRoot();
  const kt = kernel.tasks.get(serverTask.info.id);
  const entry = kt === undefined ? null : ipc_entry_lookup(kt.itk_space, rootName);
  if (entry === null) throw new Error('openImageSession: the root port is not in the server\'s space');
  const client = kernel.createTask('grep', { bootstrap: entry.ie_object as IpcPort });
  const root = client.bootstrap!;
  return {
    server,
    ctx: { crdir: root, cwdir: root },
    async close() {
      client.terminate();
      await server.stop();
      serverTask.terminate();
      kernel.shutdown();
      await src.close();
    },
  };
}

/** Format the server's counters for --stats. */
export function formatServerStats(s: Ext2ServerStats): string {
  const rpcs = Object.entries(s.rpcs).sort(([a], [b]) => a.localeCompare(b));
  const total = rpcs.reduce((n, [, v]) => n + v, 0);
  return `ext2fs: ${total} requests served: ${rpcs.map(([k, v]) => `${k} ${v}`).join(', ')}\n`
    + `ext2fs: open files (protids) ${s.protids.protids} live, ${s.protids.created} made, ${s.protids.released} released on no-senders; `
    + `nodes ${s.nodes.nodes} cached (${s.nodes.dirs} directories); `
    + (s.buffers ? `block buffers ${s.buffers.buffers}, ${s.buffers.hits} hits / ${s.buffers.misses} misses; ` : '')
    + `${s.bytesRead} bytes read\n`;
}

/** `tsmach grep ...`: returns the exit status. */
export async function grepCommand(argv: readonly string[], out: GrepOutput = {
  stdout: (b) => void process.stdout.write(b),
  stderr: (s) => void process.stderr.write(s),
}): Promise<number> {
  let cmd: GrepCommand;
  try {
    cmd = parseGrepArgs(argv);
  } catch (e) {
    if (e instanceof GrepUsageError) {
      out.stderr(`${e.message}\n`);
      return 2;
    }
    throw e;
  }
  if (cmd.help) {
    out.stdout(enc.encode(`${GREP_HELP}\n`));
    return 0;
  }
  if (cmd.image === null) return grepServer(cmd, out);
  let session: ImageSession;
  try {
    session = await openImageSession(cmd.image, { dtype: cmd.dtype });
  } catch (e) {
    out.stderr(`tsmach grep: ${cmd.image}: ${(e as Error).message}\n`);
    return 2;
  }
  try {
    const stats = newGrepStats();
    const t0 = performance.now();
    const status = await grep(cmd.options, session.ctx, out, stats);
    if (cmd.stats) out.stderr(formatServerStats(session.server.stats));
    writeSummary(cmd, out, { ...stats, status, ms: performance.now() - t0 });
    return status;
  } finally {
    await session.close();
  }
}

/** What --summary writes. */
export interface GrepSummary extends GrepStats {
  status: number;
  ms: number;
  /** messages this task sent (its RPCs; process mode) */
  rpcs?: number;
}

function writeSummary(cmd: GrepCommand, out: GrepOutput, summary: GrepSummary): void {
  if (cmd.summary === null) return;
  const text = `${JSON.stringify(summary)}\n`;
  if (cmd.summary === '-') out.stderr(text);
  else writeFileSync(cmd.summary, text);
}

/**
 * grep as a task of a running kernel: the server's root is looked up in the name
 * service (netname_look_up), then searched as from the embedded session.
 */
async function grepServer(cmd: GrepCommand, out: GrepOutput): Promise<number> {
  let task: MachTask;
  try {
    task = await connect({ name: 'grep' });
  } catch (e) {
    out.stderr(`tsmach grep: no kernel to connect to (${(e as Error).message}); give --image FILE.img, or start tsmach boot/kernel\n`);
    return 2;
  }
  // Count this task's messages (its RPCs), as rpctrace would.
  let rpcs = 0;
  const send = task.mach_msg.bind(task);
  task.mach_msg = (msg, option, rcvName, timeout) => {
    if ((option & MACH_SEND_MSG) !== 0) rpcs++;
    return send(msg, option, rcvName, timeout);
  };
  try {
    let root: MachPort | null;
    try {
      root = (await netname_look_up(task.bootstrap!, '', cmd.server)).port_id;
    } catch (e) {
      out.stderr(`tsmach grep: no server ${JSON.stringify(cmd.server)} in the name service (${(e as Error).message})\n`);
      return 2;
    }
    if (root === null) {
      out.stderr(`tsmach grep: no server ${JSON.stringify(cmd.server)} in the name service\n`);
      return 2;
    }
    const stats = newGrepStats();
    const t0 = performance.now();
    const status = await grep(cmd.options, { crdir: root, cwdir: root }, out, stats);
    const ms = performance.now() - t0;
    if (cmd.stats) out.stderr(`grep: ${stats.files} files, ${stats.directories} directories, ${stats.bytes} bytes read, ${rpcs} messages sent, ${ms.toFixed(0)} ms\n`);
    writeSummary(cmd, out, { ...stats, status, ms, rpcs });
    return status;
  } finally {
    task.terminate();
  }
}
