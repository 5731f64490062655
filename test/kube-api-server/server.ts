/** The test API server (lib/local/sandbox-cluster), and access to the recordings it was built from. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export { ADMIN_TOKEN, KubeApiServer, type Fault, type KubeApiServerOptions, type LoggedRequest } from '../../lib/local/sandbox-cluster/server.js';

/** Where the recorded responses live (a copy in the repository: tests read nothing outside it). */
export const RECORDINGS_DIR = join(import.meta.dirname, '..', 'fixtures', 'k8s-recordings');

/** One recorded request/response pair. */
export interface Recording {
  description: string;
  request: { method: string; path: string; accept?: string; contentType?: string; body?: string };
  response: { status: number; contentType: string; body: unknown };
}

/** Reads a recording by file name. */
export const loadRecording = (file: string): Recording => JSON.parse(readFileSync(join(RECORDINGS_DIR, file), 'utf8')) as Recording;
