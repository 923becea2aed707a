/*
 * File: tools/argv.ts
 * Purpose: command-line options read one at a time, as getopt_long's callers read them:
 *          each option in turn, and the value of one that takes a value.
 */

/**
 * The options of a command line. Iterating yields each word in turn; value(option) takes
 * the next word as that option's value (the iteration goes on after it), and rest() the
 * words not read yet.
 */
export class ArgvOptions implements Iterable<string> {
  private next = 0;

  constructor(private readonly argv: readonly string[]) {}

  *[Symbol.iterator](): Iterator<string> {
    while (this.next < this.argv.length) yield this.argv[this.next++]!;
  }

  /** The value of `option`: the next word. Throws "OPTION needs a value" when there is none. */
  value(option: string): string {
    const v = this.argv[this.next];
    if (v === undefined) throw new Error(`${option} needs a value`);
    this.next++;
    return v;
  }

  /** The words not read yet (taken: the iteration ends). */
  rest(): string[] {
    const words = this.argv.slice(this.next);
    this.next = this.argv.length;
    return words;
  }
}
