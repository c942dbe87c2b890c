// Generated audio that customers fetch (5250 results): WAV files named by their sha256 in one folder
// under the data dir, served by GET /voice/audio/<sha256>.wav. Named by content, a file never
// changes, so it can be cached forever and the same speech stored twice is one file.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The only names served: nothing else, so no path can leave the folder. */
export const AUDIO_NAME = /^[0-9a-f]{64}\.wav$/;

export class AudioStore {
  constructor(readonly dir: string) {}

  /** Writes the WAV (atomically: a reader never sees half a file) and returns its name. */
  save(wav: Uint8Array): string {
    const name = `${createHash('sha256').update(wav).digest('hex')}.wav`;
    const path = join(this.dir, name);
    if (existsSync(path)) return name;
    mkdirSync(this.dir, { recursive: true });
    const tmp = `${path}.${process.pid}.${Date.now()}.tmp`;
    writeFileSync(tmp, wav);
    renameSync(tmp, path);
    return name;
  }

  /** The file for a requested name, or undefined when the name is not one of ours or is missing. */
  path(name: string): string | undefined {
    if (!AUDIO_NAME.test(name)) return undefined;
    const p = join(this.dir, name);
    return existsSync(p) ? p : undefined;
  }
}

/** The public URL of a stored file under the instance's HTTP base URL. */
export const audioUrl = (baseUrl: string, name: string): string => `${baseUrl.replace(/\/+$/, '')}/voice/audio/${name}`;
