import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

/** What `writeCrdSet` generates. @default 50 CRDs of 20 properties per level, 2 levels deep (about 6 MB) */
export interface CrdSetOptions {
  readonly crds?: number;
  /** Properties per object level of each schema. */
  readonly width?: number;
  /** Levels of nested objects in each schema. */
  readonly depth?: number;
}

/** An openAPIV3 schema of `width` properties per level, `depth` levels deep, with descriptions as real CRDs carry. */
const schemaOf = (prefix: string, width: number, depth: number): Record<string, unknown> => {
  const properties: Record<string, unknown> = {};
  for (let i = 0; i < width; i++) {
    const name = `${prefix}Field${i}`;
    const description = `${name} is generated for the render benchmark. It carries a paragraph of text, as controller-gen copies the Go doc comment of every field into the schema, which is why CRD sets weigh megabytes.`;
    if (depth > 0 && i % 6 === 0) properties[name] = { description, ...schemaOf(`${prefix}${i}`, width, depth - 1) };
    else if (i % 6 === 1) properties[name] = { description, type: 'array', items: { type: 'string' } };
    else if (i % 6 === 2) properties[name] = { description, type: 'integer', format: 'int32', minimum: 0 };
    else properties[name] = { description, type: 'string', ...(i % 6 === 3 ? { enum: ['Always', 'Never', 'IfNotPresent'] } : {}) };
  }
  return { type: 'object', properties, required: [`${prefix}Field1`] };
};

/**
 * Writes a generated multi-megabyte CRD set (the heaviest directories of real repositories: operator bundles)
 * under a kustomization with namePrefix, labels, commonAnnotations and a JSON 6902 and a strategic-merge patch,
 * and returns its directory.
 */
export const writeCrdSet = (options: CrdSetOptions = {}): string => {
  const { crds = 50, width = 20, depth = 2 } = options;
  const dir = mkdtempSync(join(tmpdir(), 'driftless-crd-set-'));
  mkdirSync(join(dir, 'crds'));
  const files: string[] = [];
  for (let c = 0; c < crds; c++) {
    const kind = `Widget${c}`;
    const plural = `widget${c}s`;
    const crd = {
      apiVersion: 'apiextensions.k8s.io/v1',
      kind: 'CustomResourceDefinition',
      metadata: { name: `${plural}.bench.driftless.dev`, annotations: { 'controller-gen.kubebuilder.io/version': 'v0.16.1' } },
      spec: {
        group: 'bench.driftless.dev',
        names: { kind, listKind: `${kind}List`, plural, singular: `widget${c}` },
        scope: 'Namespaced',
        versions: [
          {
            name: 'v1',
            served: true,
            storage: true,
            subresources: { status: {} },
            schema: { openAPIV3Schema: { type: 'object', properties: { spec: schemaOf('spec', width, depth), status: schemaOf('status', Math.ceil(width / 3), 1) } } },
          },
        ],
      },
    };
    const file = `crds/${plural}.yaml`;
    writeFileSync(join(dir, file), stringify(crd, { lineWidth: 0 }));
    files.push(file);
  }
  writeFileSync(
    join(dir, 'kustomization.yaml'),
    stringify({
      apiVersion: 'kustomize.config.k8s.io/v1beta1',
      kind: 'Kustomization',
      namePrefix: 'bench-',
      labels: [{ pairs: { 'app.kubernetes.io/part-of': 'bench' }, includeSelectors: false }],
      commonAnnotations: { 'bench.driftless.dev/generated': 'true' },
      resources: files,
      patches: [
        {
          target: { kind: 'CustomResourceDefinition', name: 'widget0s.bench.driftless.dev' },
          patch: stringify([{ op: 'add', path: '/spec/names/shortNames', value: ['w0'] }]),
        },
        {
          patch: stringify({
            apiVersion: 'apiextensions.k8s.io/v1',
            kind: 'CustomResourceDefinition',
            metadata: { name: 'widget1s.bench.driftless.dev', labels: { patched: 'strategic-merge' } },
          }),
        },
      ],
    }),
  );
  return dir;
};
