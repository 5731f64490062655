import { describe, expect, it } from 'vitest';
import { parseCrdConfig } from '../../../lib/render/kustomize/crd-config.js';

const k8sType = (spec: string) => ({
  Schema: { properties: { apiVersion: {}, kind: {}, metadata: { $ref: 'meta.ObjectMeta' }, spec: { $ref: spec } } },
});

describe('crds: OpenAPI definitions as field specs (Kustomize LoadConfigFromCRDs)', () => {
  it('turns string-valued extensions into field specs for the kind named by the type', () => {
    const tc = parseCrdConfig(
      JSON.stringify({
        'example.com/v1.Widget': k8sType('example.com/v1.WidgetSpec'),
        'example.com/v1.WidgetSpec': {
          Schema: {
            properties: {
              secret: { 'x-kubernetes-object-ref-api-version': 'v1', 'x-kubernetes-object-ref-kind': 'Secret' },
              config: { 'x-kubernetes-object-ref-api-version': 'v1', 'x-kubernetes-object-ref-kind': 'ConfigMap', 'x-kubernetes-object-ref-name-key': 'ref' },
              selector: { 'X-Kubernetes-Label-Selector': '' },
              notes: { 'x-kubernetes-annotation': '' },
              alias: { 'x-kubernetes-identity': '' },
              flag: { 'x-kubernetes-identity': true },
            },
          },
        },
      }),
    );
    expect(tc.nameReference).toEqual([
      { kind: 'Secret', version: 'v1', fieldSpecs: [{ kind: 'Widget', path: 'spec/secret/name' }] },
      { kind: 'ConfigMap', version: 'v1', fieldSpecs: [{ kind: 'Widget', path: 'spec/config/ref' }] },
    ]);
    expect(tc.commonLabels).toEqual([{ kind: 'Widget', path: 'spec/selector' }]);
    expect(tc.commonAnnotations).toEqual([{ kind: 'Widget', path: 'spec/notes' }]);
    expect(tc.namePrefix).toEqual([{ kind: 'Widget', path: 'spec/alias' }]);
    expect(tc.nameSuffix).toEqual([]);
  });

  it('skips definitions that are not Kubernetes types and stops at reference cycles', () => {
    const tc = parseCrdConfig(
      [
        'a.Loop:',
        '  Schema:',
        '    properties: {apiVersion: {}, kind: {}, metadata: {}, next: {$ref: a.Node}}',
        'a.Node:',
        '  Schema:',
        '    properties:',
        '      again: {$ref: a.Node}',
        '      name: {x-kubernetes-identity: ""}',
        'a.Plain:',
        '  Schema:',
        '    properties: {name: {x-kubernetes-identity: ""}}',
      ].join('\n'),
    );
    expect(tc.namePrefix).toEqual([{ kind: 'Loop', path: 'next/name' }]);
  });

  it('refuses an empty file and a CustomResourceDefinition object, naming what it expected', () => {
    expect(() => parseCrdConfig('')).toThrow(/empty/);
    expect(() => parseCrdConfig('apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n')).toThrow(/cannot unmarshal string into an OpenAPI definition/);
    expect(() => parseCrdConfig('{ nope')).toThrow(/invalid JSON/);
  });
});
