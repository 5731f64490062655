import { describe, expect, it } from 'vitest';
import { createRedactor, MIN_SECRET_LENGTH, NO_REDACTION, REDACTED, combineRedactors, redactDeep, secretValuesOf } from '../../../lib/core/redact.js';
import { MemoryFileTree } from '../../../lib/render/file-tree.js';
import { secretSourceValues } from '../../../lib/render/secret-sources.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('secretValuesOf', () => {
  it('collects stringData values and data values as written and decoded, from Secrets only', () => {
    // GIVEN a Secret with both fields and a ConfigMap
    const objects = [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 's' }, data: { a: b64('decoded-value') }, stringData: { b: 'string-value' } },
      { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' }, data: { c: 'not-a-secret' } },
    ];
    // WHEN collecting THEN
    expect(secretValuesOf(objects).sort()).toEqual([b64('decoded-value'), 'decoded-value', 'string-value'].sort());
  });
});

describe('createRedactor', () => {
  const secret = 'p4ss:w0rd"multi\nline-two';
  const redact = createRedactor([secret]);

  it.each([
    // [case, text]
    ['as is', `failed: ${secret}`],
    ['one line of it', 'invalid YAML near line-two'],
    ['JSON-escaped', JSON.stringify({ error: secret })],
    ['base64', `data: ${b64(secret)}`],
  ])('redacts the value %s', (_case, text) => {
    const out = redact(text);
    expect(out).toContain(REDACTED);
    expect(out).not.toContain('line-two');
    expect(out).not.toContain('p4ss:w0rd');
  });

  it(`leaves values shorter than ${MIN_SECRET_LENGTH} characters alone`, () => {
    expect(createRedactor(['abc', 'true']).size).toBe(0);
    expect(createRedactor(['abc'])('abc true')).toBe('abc true');
  });

  it('redacts the longer of two overlapping values whole', () => {
    expect(createRedactor(['secret-value', 'secret-value-longer'])('x secret-value-longer y')).toBe(`x ${REDACTED} y`);
  });

  it('redacts every string of a nested value and keeps the rest', () => {
    const r = createRedactor(['hunter2-value']);
    expect(redactDeep({ a: ['x hunter2-value'], n: 3, b: { c: 'hunter2-value' } }, r)).toEqual({ a: [`x ${REDACTED}`], n: 3, b: { c: REDACTED } });
    expect(redactDeep({ a: 1 }, NO_REDACTION)).toEqual({ a: 1 });
  });

  it('combines redactors', () => {
    const r = combineRedactors(createRedactor(['first-secret']), NO_REDACTION, createRedactor(['second-secret']));
    expect(r('first-secret second-secret')).toBe(`${REDACTED} ${REDACTED}`);
  });
});

describe('secretSourceValues', () => {
  it('finds Secret manifests and every secretGenerator source, even in a broken kustomization dir', async () => {
    // GIVEN generator sources of every kind and a Secret manifest
    const tree = new MemoryFileTree({
      'deploy/kustomization.yaml': 'secretGenerator:\n- name: s\n  literals: [no-equals-literal, "k=literal-value"]\n  envs: [a.env]\n  files: [key.pem, named=other.txt]\n',
      'deploy/a.env': '# comment\nTOKEN=env-file-value\nbare-env-line\n',
      'deploy/key.pem': 'file-source-value',
      'deploy/other.txt': 'named-file-value',
      'base/secret.yaml': 'apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData: {pw: manifest-value}\n',
    });
    // WHEN scanning THEN
    const values = await secretSourceValues(tree);
    for (const v of ['no-equals-literal', 'literal-value', 'env-file-value', 'bare-env-line', 'file-source-value', 'named-file-value', 'manifest-value']) {
      expect(values).toContain(v);
    }
  });

  it("skips driftless's own state directory at the checkout's root (the observation cache is not a manifest)", async () => {
    const secret = 'apiVersion: v1\nkind: Secret\nmetadata: {name: x}\nstringData: {pw: manifest-value}\n';
    const tree = new MemoryFileTree({ '.driftless/cache/observations/a.json': secret, 'deploy/.driftless/s.yaml': secret });
    expect(await secretSourceValues(tree)).toEqual(['manifest-value']);
  });
});
