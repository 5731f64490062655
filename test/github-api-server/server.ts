/**
 * A local GitHub REST endpoint for tests whose answers are computed from a real git repository (built by the
 * test with the git CLI): branch refs, compare, contents, tarball, commits, commit statuses, check runs (with
 * annotations) and issue comments, in the shapes
 * GitHub documents (@octokit/openapi-types). Requests are logged so tests can count GitHub calls.
 * Simpler than GitHub: one repository per server, no pagination, token auth only checks presence. As on GitHub,
 * check runs can only be written with an installation token (a GitHub App), not with a personal token.
 */
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoggedGitHubRequest {
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly authorization?: string;
}

export class GitHubApiServer {
  readonly requests: LoggedGitHubRequest[] = [];
  readonly statuses: { sha: string; state: string; context: string; description: string }[] = [];
  /** Check runs as they are now (each write replaces the fields it names). */
  /** Every check run write, in order (what each request asked for). */
  readonly checkRunWrites: { method: string; status?: string; conclusion?: string; title?: string }[] = [];
  readonly checkRuns: {
    id: number;
    head_sha: string;
    name: string;
    status: string;
    conclusion?: string;
    output: { title: string; summary: string; text?: string; annotations_count: number };
    /** Every annotation written to the run (GitHub appends each request's). */
    annotations: { path: string; start_line: number; end_line: number; annotation_level: string; message: string; title?: string }[];
  }[] = [];
  /** Issue (pull-request) comments, oldest first. */
  readonly comments: { id: number; issue_number: number; body: string; created_at: string; updated_at: string }[] = [];
  private readonly server: Server;
  private lastIfNoneMatch: string | undefined;
  /** How many of the next tarball downloads break off mid-body (a fault for tests). */
  cutTarballs = 0;
  private authorization: string | undefined;

  constructor(
    readonly repository: string,
    private readonly dir: string,
  ) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
          this.requests.push({ method: req.method ?? 'GET', path: url.pathname, status, ...(req.headers.authorization ? { authorization: req.headers.authorization } : {}) });
          res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
          res.end(Buffer.isBuffer(body) ? body : typeof body === 'string' ? body : JSON.stringify(body));
        };
        /** A 200 whose body breaks off: these bytes, then the connection is destroyed. */
        const cut = (partial: Buffer) => {
          this.requests.push({ method: req.method ?? 'GET', path: url.pathname, status: 200 });
          res.writeHead(200, { 'content-type': 'application/x-gzip', 'content-length': String(partial.length * 2) });
          res.write(partial, () => res.destroy());
        };
        if (!req.headers.authorization) return send(401, { message: 'Requires authentication' });
        this.authorization = req.headers.authorization;
        this.lastIfNoneMatch = typeof req.headers['if-none-match'] === 'string' ? req.headers['if-none-match'] : undefined;
        try {
          this.route(req.method ?? 'GET', url, Buffer.concat(chunks).toString('utf8'), String(req.headers.accept ?? ''), send, cut);
        } catch (err) {
          send(422, { message: (err as Error).message });
        }
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this.url;
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Requests other than writes (the read calls a push costs). */
  reads(): LoggedGitHubRequest[] {
    return this.requests.filter((r) => !isWrite(r) && !r.path.startsWith('/_codeload'));
  }

  /** Content-creating requests (what GitHub's secondary limits count): statuses and check runs. */
  writes(): LoggedGitHubRequest[] {
    return this.requests.filter(isWrite);
  }

  private git(args: string[]): string {
    return execFileSync('git', ['-C', this.dir, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
  }

  private sha(ref: string): string | undefined {
    try {
      return this.git(['rev-parse', '--verify', `${ref}^{commit}`]);
    } catch {
      return undefined;
    }
  }

  private route(method: string, url: URL, body: string, accept: string, send: (s: number, b: unknown, h?: Record<string, string>) => void, cut: (partial: Buffer) => void): void {
    const prefix = `/repos/${this.repository}`;
    const path = decodeURIComponent(url.pathname);
    if (path.startsWith('/_codeload/')) {
      const sha = path.split('/')[2] as string;
      const tgz = execFileSync('git', ['-C', this.dir, 'archive', '--format=tar.gz', `--prefix=${this.repository.replace('/', '-')}-${sha.slice(0, 7)}/`, '--end-of-options', sha]);
      if (this.cutTarballs > 0) {
        // A download cut mid-body, as codeload sometimes cuts one: half the archive, then the connection drops.
        this.cutTarballs--;
        return cut(tgz.subarray(0, tgz.length >> 1));
      }
      return send(200, tgz, { 'content-type': 'application/x-gzip' });
    }
    // GitHub App: the installation of the repository (asked with the app's JWT) and its access tokens.
    if (method === 'POST' && path === '/app/installations/4242/access_tokens') {
      return send(201, { token: 'ghs_installation_token', expires_at: new Date(Date.now() + 3_600_000).toISOString(), permissions: {}, repository_selection: 'all' });
    }
    if (!path.startsWith(`${prefix}/`)) return send(404, { message: 'Not Found' });
    if (method === 'GET' && path === `${prefix}/installation`) return send(200, { id: 4242, account: { login: this.repository.split('/')[0] } });
    const rest = path.slice(prefix.length + 1);
    let m: RegExpMatchArray | null;
    if ((m = rest.match(/^(?:commits\/([0-9a-f]{40})\/)?check-runs(?:\/(\d+))?$/))) return this.checkRun(method, m[1], m[2], url, body, send);
    if ((m = rest.match(/^check-runs\/(\d+)\/annotations$/)) && method === 'GET') {
      const run = this.checkRuns.find((r) => r.id === Number(m?.[1]));
      return run ? send(200, run.annotations) : send(404, { message: 'Not Found' });
    }
    if ((m = rest.match(/^issues\/(\d+)\/comments$/))) return this.comment(method, Number(m[1]), undefined, url, body, send);
    if ((m = rest.match(/^issues\/comments\/(\d+)$/))) return this.comment(method, undefined, Number(m[1]), url, body, send);
    if (method === 'GET' && (m = rest.match(/^git\/ref\/heads\/(.+)$/))) {
      const sha = this.sha(`refs/heads/${m[1]}`);
      if (!sha) return send(404, { message: 'Not Found' });
      const etag = `W/"${sha}"`;
      if (this.lastIfNoneMatch === etag) return send(304, '', { etag });
      return send(200, { ref: `refs/heads/${m[1]}`, object: { sha, type: 'commit', url: '' } }, { etag });
    }
    if (method === 'GET' && (m = rest.match(/^commits\/(.+)$/))) {
      const sha = this.sha(m[1] as string) ?? this.sha(`refs/heads/${m[1]}`);
      return sha ? send(200, { sha }) : send(404, { message: 'Not Found' });
    }
    if (method === 'GET' && (m = rest.match(/^compare\/(.+)\.\.\.(.+)$/))) {
      const base = this.sha(m[1] as string);
      const head = this.sha(m[2] as string) ?? this.sha(`refs/heads/${m[2]}`);
      if (!base || !head) return send(404, { message: 'Not Found' });
      const mergeBase = this.git(['merge-base', base, head]);
      const ahead = this.git(['rev-list', '--reverse', `${base}..${head}`])
        .split('\n')
        .filter(Boolean);
      const behind = this.git(['rev-list', `${head}..${base}`])
        .split('\n')
        .filter(Boolean);
      const perPage = Number(url.searchParams.get('per_page') ?? 300);
      const files = this.git(['diff', '--name-status', '--no-renames', mergeBase, head])
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [st, filename] = l.split('\t') as [string, string];
          return { filename, status: st === 'A' ? 'added' : st === 'D' ? 'removed' : 'modified' };
        });
      return send(200, {
        status: ahead.length && behind.length ? 'diverged' : ahead.length ? 'ahead' : behind.length ? 'behind' : 'identical',
        ahead_by: ahead.length,
        behind_by: behind.length,
        total_commits: ahead.length,
        base_commit: { sha: base },
        merge_base_commit: { sha: mergeBase },
        commits: ahead.slice(0, 250).map((sha) => ({ sha })),
        files: files.slice(0, Math.min(perPage, 300)),
      });
    }
    if (method === 'GET' && (m = rest.match(/^contents\/(.+)$/))) {
      const ref = url.searchParams.get('ref') ?? 'HEAD';
      let content: string;
      try {
        content = execFileSync('git', ['-C', this.dir, 'show', `${ref}:${m[1]}`], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      } catch {
        return send(404, { message: 'Not Found' });
      }
      if (accept.includes('raw')) return send(200, content, { 'content-type': 'text/plain; charset=utf-8' });
      return send(200, { type: 'file', encoding: 'base64', path: m[1], content: Buffer.from(content).toString('base64') });
    }
    if (method === 'GET' && (m = rest.match(/^git\/trees\/(.+)$/))) {
      const sha = this.sha(m[1] as string);
      if (!sha) return send(404, { message: 'Not Found' });
      const tree = this.git(['ls-tree', '-r', '-l', sha])
        .split('\n')
        .filter(Boolean)
        .map((l) => {
          const [meta, path] = l.split('\t') as [string, string];
          const [mode, type, objectSha, size] = meta.split(/\s+/) as [string, string, string, string];
          return { path, mode, type, sha: objectSha, size: Number(size) };
        });
      return send(200, { sha, truncated: false, tree });
    }
    if (method === 'GET' && (m = rest.match(/^git\/blobs\/([0-9a-f]{40})$/))) {
      const content = execFileSync('git', ['-C', this.dir, 'cat-file', 'blob', m[1] as string]);
      return send(200, { sha: m[1], size: content.length, encoding: 'base64', content: content.toString('base64') });
    }
    if (method === 'GET' && (m = rest.match(/^tarball\/(.+)$/))) {
      const sha = this.sha(m[1] as string);
      return sha ? send(302, '', { location: `${this.url}/_codeload/${sha}` }) : send(404, { message: 'Not Found' });
    }
    if (method === 'POST' && (m = rest.match(/^statuses\/([0-9a-f]{40})$/))) {
      const b = JSON.parse(body) as { state: string; context: string; description: string };
      this.statuses.push({ sha: m[1] as string, state: b.state, context: b.context, description: b.description });
      return send(201, { id: this.statuses.length, state: b.state, context: b.context, description: b.description });
    }
    return send(404, { message: 'Not Found' });
  }

  /** GET commits/{sha}/check-runs?check_name=, POST check-runs, PATCH check-runs/{id}. */
  private checkRun(
    method: string,
    sha: string | undefined,
    id: string | undefined,
    url: URL,
    body: string,
    send: (s: number, b: unknown, h?: Record<string, string>) => void,
  ): void {
    if (method === 'GET' && sha && !id) {
      const name = url.searchParams.get('check_name');
      const runs = this.checkRuns.filter((r) => r.head_sha === sha && (!name || r.name === name)).reverse();
      return send(200, { total_count: runs.length, check_runs: runs.slice(0, Number(url.searchParams.get('per_page') ?? 30)) });
    }
    if (this.authorization !== 'token ghs_installation_token') return send(403, { message: 'You must authenticate via a GitHub App.' });
    type Annotation = (typeof this.checkRuns)[number]['annotations'][number];
    const b = JSON.parse(body || '{}') as {
      head_sha?: string;
      name?: string;
      status?: string;
      conclusion?: string;
      output?: { title: string; summary: string; text?: string; annotations?: Annotation[] };
    };
    // What GitHub refuses (422): over 50 annotations a request, a summary or text over 65,535 characters, an
    // annotation without its fields, a completed run without a conclusion, a conclusion it does not know.
    const annotations = b.output?.annotations ?? [];
    if (annotations.length > 50) return send(422, { message: 'Only 50 annotations may be sent per request' });
    if ((b.output?.summary.length ?? 0) > 65_535 || (b.output?.text?.length ?? 0) > 65_535)
      return send(422, { message: 'output.summary and output.text are at most 65535 characters' });
    if (b.output && (typeof b.output.title !== 'string' || typeof b.output.summary !== 'string')) return send(422, { message: 'output.title and output.summary are required' });
    for (const a of annotations) {
      if (!a.path || !Number.isInteger(a.start_line) || !Number.isInteger(a.end_line) || !['notice', 'warning', 'failure'].includes(a.annotation_level) || !a.message) {
        return send(422, { message: 'annotations need path, start_line, end_line, annotation_level (notice, warning, failure) and message' });
      }
    }
    if (b.conclusion && !['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'stale', 'timed_out'].includes(b.conclusion)) {
      return send(422, { message: `conclusion ${b.conclusion} is not valid` });
    }
    if (b.status === 'completed' && !b.conclusion) return send(422, { message: 'conclusion is required when status is completed' });
    const output = (o: NonNullable<typeof b.output>, count: number) => ({
      title: o.title,
      summary: o.summary,
      ...(o.text !== undefined ? { text: o.text } : {}),
      annotations_count: count + (o.annotations?.length ?? 0),
    });
    this.checkRunWrites.push({
      method,
      ...(b.status ? { status: b.status } : {}),
      ...(b.conclusion ? { conclusion: b.conclusion } : {}),
      ...(b.output ? { title: b.output.title } : {}),
    });
    if (method === 'POST' && !sha && !id) {
      if (!b.head_sha || !b.name || !b.output) return send(422, { message: 'head_sha, name and output are required' });
      const run = {
        id: this.checkRuns.length + 1,
        head_sha: b.head_sha,
        name: b.name,
        status: b.status ?? 'queued',
        ...(b.conclusion ? { conclusion: b.conclusion } : {}),
        output: output(b.output, 0),
        annotations: [...annotations],
      };
      this.checkRuns.push(run);
      return send(201, run);
    }
    if (method === 'PATCH' && id && !sha) {
      const run = this.checkRuns.find((r) => r.id === Number(id));
      if (!run) return send(404, { message: 'Not Found' });
      Object.assign(run, {
        ...(b.name ? { name: b.name } : {}),
        ...(b.status ? { status: b.status } : {}),
        ...(b.conclusion ? { conclusion: b.conclusion } : {}),
        ...(b.output
          ? { output: { ...output(b.output, run.output.annotations_count), ...(b.output.text === undefined && run.output.text !== undefined ? { text: run.output.text } : {}) } }
          : {}),
      });
      run.annotations.push(...annotations);
      return send(200, run);
    }
    return send(404, { message: 'Not Found' });
  }

  /** GET issues/{n}/comments (oldest first, per_page ≤ 100, page), POST issues/{n}/comments, PATCH issues/comments/{id}. */
  private comment(
    method: string,
    issue: number | undefined,
    id: number | undefined,
    url: URL,
    body: string,
    send: (s: number, b: unknown, h?: Record<string, string>) => void,
  ): void {
    if (method === 'GET' && issue !== undefined) {
      const perPage = Math.min(100, Number(url.searchParams.get('per_page') ?? 30));
      const page = Math.max(1, Number(url.searchParams.get('page') ?? 1));
      const all = this.comments.filter((c) => c.issue_number === issue);
      return send(200, all.slice((page - 1) * perPage, page * perPage));
    }
    const b = JSON.parse(body || '{}') as { body?: unknown };
    if (typeof b.body !== 'string' || !b.body) return send(422, { message: 'body is required' });
    if (b.body.length > 65_536) return send(422, { message: 'body is too long (maximum is 65536 characters)' });
    const now = new Date().toISOString();
    if (method === 'POST' && issue !== undefined) {
      const c = { id: 9000 + this.comments.length + 1, issue_number: issue, body: b.body, created_at: now, updated_at: now };
      this.comments.push(c);
      return send(201, c);
    }
    if (method === 'PATCH' && id !== undefined) {
      const c = this.comments.find((x) => x.id === id);
      if (!c) return send(404, { message: 'Not Found' });
      Object.assign(c, { body: b.body, updated_at: now });
      return send(200, c);
    }
    return send(404, { message: 'Not Found' });
  }
}

const isWrite = (r: LoggedGitHubRequest): boolean =>
  (r.method === 'POST' && (r.path.includes('/statuses/') || r.path.endsWith('/check-runs') || r.path.endsWith('/comments'))) ||
  (r.method === 'PATCH' && (r.path.includes('/check-runs/') || r.path.includes('/issues/comments/')));
