// Test support for the disk-full faults: a small tmpfs (a real filesystem that really fills up)
// and a filler file that takes every free byte and gives it back. Needs root in a container that
// may mount; tmpfsOrSkip() says why not otherwise, so the test skips with a reason.
import { execFileSync } from 'node:child_process';
import { closeSync, fstatSync, ftruncateSync, mkdtempSync, openSync, rmSync, statfsSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Tmpfs {
  readonly dir: string;
  /** Writes a filler file until the filesystem has no room left (ENOSPC), then gives `leaveBytes` back. */
  fill(leaveBytes?: number): void;
  /** Deletes the filler: the space returns. */
  free(): void;
  freeBytes(): number;
  unmount(): void;
}

/** Mounts a tmpfs of `size` (e.g. '16m'), or returns the reason it cannot. */
export function mountTmpfs(size: string): Tmpfs | string {
  const dir = mkdtempSync(join(tmpdir(), 'timmy-tmpfs-'));
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const e = err as { stderr?: Buffer; message: string };
    return `cannot mount a tmpfs here (${(e.stderr?.toString() || e.message).trim().split('\n')[0]})`;
  }
  const filler = join(dir, 'filler');
  return {
    dir,
    fill(leaveBytes = 0) {
      const fd = openSync(filler, 'a');
      const chunk = Buffer.alloc(64 * 1024, 0xab);
      try {
        for (;;) {
          try {
            writeSync(fd, chunk);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
            // The last bytes: smaller writes until not even one fits.
            for (let n = chunk.length / 2; n >= 1; n = Math.floor(n / 2)) {
              try {
                while (true) writeSync(fd, chunk, 0, n);
              } catch (e2) {
                if ((e2 as NodeJS.ErrnoException).code !== 'ENOSPC') throw e2;
              }
            }
            if (leaveBytes > 0) ftruncateSync(fd, Math.max(0, fstatSync(fd).size - leaveBytes));
            return;
          }
        }
      } finally {
        closeSync(fd);
      }
    },
    free() {
      rmSync(filler, { force: true });
    },
    freeBytes() {
      const s = statfsSync(dir);
      return s.bavail * s.bsize;
    },
    unmount() {
      try {
        execFileSync('umount', [dir], { stdio: 'pipe' });
      } catch {
        execFileSync('umount', ['-l', dir], { stdio: 'pipe' });
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
