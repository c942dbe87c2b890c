// GET /voice/audio/<sha256>.wav: the audio of text-to-speech results (DVM kind 5250), which the
// result event links to. Files are named by their content's hash (voice/audio-store.ts), so they
// are immutable and cached for a year; any other name is a 404, and no name can leave the folder.
import { createReadStream, statSync } from 'node:fs';
import type http from 'node:http';
import { sendJson } from './http.js';

/** Where the files are: voice/audio-store.ts's AudioStore has this shape. */
export interface AudioFiles {
  path(name: string): string | undefined;
}

export const VOICE_AUDIO_PREFIX = '/voice/audio/';

/** Answers a request under /voice/audio/; true when it did (the caller checked the prefix). */
export function serveVoiceAudio(files: AudioFiles | undefined, req: http.IncomingMessage, res: http.ServerResponse, pathname: string): boolean {
  if (!pathname.startsWith(VOICE_AUDIO_PREFIX)) return false;
  const cors = { 'access-control-allow-origin': '*' };
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    sendJson(res, 405, { error: 'method not allowed' }, { ...cors, allow: 'GET, HEAD' });
    return true;
  }
  const name = pathname.slice(VOICE_AUDIO_PREFIX.length);
  const file = files?.path(name);
  if (!file) {
    sendJson(res, 404, { error: 'no such audio' }, cors);
    return true;
  }
  const size = statSync(file).size;
  res.writeHead(200, {
    ...cors,
    'content-type': 'audio/wav',
    'content-length': String(size),
    'cache-control': 'public, max-age=31536000, immutable',
    etag: `"${name.slice(0, 64)}"`,
    'x-content-type-options': 'nosniff',
  });
  if (req.method === 'HEAD') res.end();
  else createReadStream(file).on('error', () => res.destroy()).pipe(res);
  return true;
}
