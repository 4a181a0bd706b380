import { closeSync, openSync, writeSync } from 'node:fs';

/**
 * Appends history lines to the instance's file, each with a synchronous write: a line written is in
 * the kernel's hands at once, so a SIGKILL loses none of what was recorded before it.
 */
export class Recorder {
  private readonly fd: number;

  constructor(path: string) {
    this.fd = openSync(path, 'a');
  }

  write(line: object): void {
    writeSync(this.fd, `${JSON.stringify(line)}\n`);
  }

  close(): void {
    closeSync(this.fd);
  }
}
