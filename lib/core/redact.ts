/**
 * Secret values out of text that leaves the process (ledger, commit status, logs, Slack, CLI output).
 * Pure: the values come from rendered Secrets (`secretValuesOf`) and from a repository's secret sources
 * (lib/render/secret-sources.ts); the redactor replaces every occurrence with `[redacted]`.
 */

/** What a secret value is replaced with. */
export const REDACTED = '[redacted]';

/**
 * The shortest value (in characters) that is redacted. Shorter values (`true`, `80`, `admin`) are not secrets
 * worth the name, and replacing them would blank ordinary words of every message; they are not collected.
 * @default 6
 */
export const MIN_SECRET_LENGTH = 6;

/** Replaces secret values in a string; `size` is how many distinct forms it looks for. */
export interface Redactor {
  (text: string): string;
  readonly size: number;
}

/** A redactor that changes nothing (no secret known). */
export const NO_REDACTION: Redactor = Object.assign((text: string) => text, { size: 0 });

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Decodes base64 text to UTF-8, or undefined when it is not base64 of UTF-8 text. */
const fromBase64 = (b64: string): string | undefined => {
  const compact = b64.replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(compact)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(compact, 'base64'));
  } catch {
    return undefined;
  }
};

/**
 * The values of every Secret among rendered objects: `stringData` values, `data` values both as written
 * (base64) and decoded. Works on any object list (a render, a live object, a dry-run answer).
 */
export const secretValuesOf = (objects: readonly unknown[]): string[] => {
  const out: string[] = [];
  for (const o of objects) {
    if (!isMap(o) || o.kind !== 'Secret') continue;
    if (isMap(o.stringData)) for (const v of Object.values(o.stringData)) if (v !== null && v !== undefined) out.push(String(v));
    if (isMap(o.data)) {
      for (const v of Object.values(o.data)) {
        if (typeof v !== 'string') continue;
        out.push(v);
        const decoded = fromBase64(v);
        if (decoded !== undefined) out.push(decoded);
      }
    }
  }
  return out;
};

/** Every form of a value text may carry it in: as is, per line, JSON-escaped, and base64 (plain and line-wrapped). */
const formsOf = (value: string): string[] => {
  const forms = new Set<string>([value, JSON.stringify(value).slice(1, -1)]);
  for (const line of value.split(/\r?\n/)) {
    forms.add(line);
    forms.add(line.trim());
  }
  const b64 = Buffer.from(value, 'utf8').toString('base64');
  forms.add(b64);
  for (let i = 0; i < b64.length; i += 70) forms.add(b64.slice(i, i + 70));
  return [...forms].filter((f) => f.length >= MIN_SECRET_LENGTH);
};

/**
 * A redactor for a set of secret values: every occurrence of a value (or of one of its forms, see `formsOf`)
 * becomes `[redacted]`, longest first. Redact before
 * truncating (a 140-character status), or a cut-off start of a value stays. Values shorter than MIN_SECRET_LENGTH are ignored.
 * @example
 * const redact = createRedactor(secretValuesOf(rendered.objects));
 * ledger.write({ error: redact(err.message) });
 */
export const createRedactor = (values: Iterable<string>): Redactor => {
  const forms = new Set<string>();
  for (const v of values) if (v.length >= MIN_SECRET_LENGTH) for (const f of formsOf(v)) forms.add(f);
  const sorted = [...forms].sort((a, b) => b.length - a.length);
  if (!sorted.length) return NO_REDACTION;
  const redact = (text: string): string => {
    let out = text;
    for (const f of sorted) if (out.includes(f)) out = out.split(f).join(REDACTED);
    return out;
  };
  return Object.assign(redact, { size: sorted.length });
};

/** Combines redactors: the text passes through each. */
export const combineRedactors = (...redactors: readonly Redactor[]): Redactor => {
  const active = redactors.filter((r) => r.size > 0);
  if (!active.length) return NO_REDACTION;
  if (active.length === 1) return active[0] as Redactor;
  return Object.assign((text: string) => active.reduce((t, r) => r(t), text), { size: active.reduce((n, r) => n + r.size, 0) });
};

/** Redacts every string inside a JSON-like value (records, change sets, log fields); other values are kept. */
export const redactDeep = <T>(value: T, redact: Redactor): T => {
  if (redact.size === 0) return value;
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return redact(v);
    if (Array.isArray(v)) return v.map(walk);
    if (isMap(v) && Object.getPrototypeOf(v) === Object.prototype) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, walk(x)]));
    return v;
  };
  return walk(value) as T;
};
