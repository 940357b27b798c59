/**
 * Reads secret lines from standard input: from a terminal in raw mode without echo (Backspace edits, Ctrl-C and
 * Ctrl-D abort), or from a pipe line by line. One reader serves several prompts, so bytes read ahead for the second
 * line are not lost.
 */

export class SecretLineReader {
  readonly #stdin: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (mode: boolean) => unknown };
  #buffer = '';
  #isEnded = false;
  #wake: (() => void) | undefined;
  readonly #isTerminal: boolean;

  constructor(stdin: NodeJS.ReadableStream) {
    this.#stdin = stdin;
    this.#isTerminal = (stdin as { isTTY?: boolean }).isTTY === true;
    stdin.setEncoding('utf8');
    stdin.on('data', this.#onData);
    stdin.on('end', this.#onEnd);
    if (this.#isTerminal) this.#stdin.setRawMode?.(true);
    stdin.resume();
  }

  #onData = (chunk: string): void => {
    this.#buffer += chunk;
    this.#wake?.();
  };

  #onEnd = (): void => {
    this.#isEnded = true;
    this.#wake?.();
  };

  /** The next line without its end; undefined at end of input (or Ctrl-C / Ctrl-D on a terminal). */
  async next(): Promise<string | undefined> {
    for (;;) {
      const line = this.#isTerminal ? this.#takeTerminalLine() : this.#takePipedLine();
      if (line !== null) return line;
      if (this.#isEnded) {
        if (this.#buffer === '') return undefined;
        const rest = this.#buffer;
        this.#buffer = '';
        return rest;
      }
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
      this.#wake = undefined;
    }
  }

  #takePipedLine(): string | null {
    const end = this.#buffer.indexOf('\n');
    if (end === -1) return null;
    const line = this.#buffer.slice(0, end).replace(/\r$/, '');
    this.#buffer = this.#buffer.slice(end + 1);
    return line;
  }

  /** Raw terminal bytes: Enter ends the line, Backspace/DEL removes a character, Ctrl-C/Ctrl-D abort. */
  #takeTerminalLine(): string | undefined | null {
    let line = '';
    for (let i = 0; i < this.#buffer.length; i++) {
      const c = this.#buffer[i]!;
      if (c === '\r' || c === '\n') {
        this.#buffer = this.#buffer.slice(i + 1);
        return line;
      }
      if (c === '\u0003' || c === '\u0004') {
        this.#buffer = '';
        return undefined;
      }
      if (c === '\u007f' || c === '\b') line = line.slice(0, -1);
      else line += c;
    }
    return null;
  }

  close(): void {
    this.#stdin.off('data', this.#onData);
    this.#stdin.off('end', this.#onEnd);
    if (this.#isTerminal) this.#stdin.setRawMode?.(false);
    this.#stdin.pause();
  }
}
