import { describe, expect, it } from 'vitest';
import { RenderError } from '../../../lib/core/errors.js';
import { decodeKustomizationFields, UnknownFieldError } from '../../../lib/render/kustomize/kustomization-fields.js';
import { parseKustomization } from '../../../lib/render/kustomize/kustomization.js';

const TOP = new Set(['resources', 'namePrefix', 'patches', 'configMapGenerator', 'replacements']);

describe('decodeKustomizationFields', () => {
  it.each([
    // [input, decoded as Go's encoding/json would]
    [{ Resources: ['a.yaml'] }, { resources: ['a.yaml'] }],
    // Sorted key order: "NamePrefix" < "namePrefix", so the lower-case spelling is decoded last and wins.
    [{ namePrefix: 'a-', NamePrefix: 'b-' }, { namePrefix: 'a-' }],
    [{ patches: [{ PATH: 'p.yaml', Target: { KIND: 'Deployment' } }] }, { patches: [{ path: 'p.yaml', target: { kind: 'Deployment' } }] }],
    // Free-form maps keep their keys.
    [{ patches: [{ patch: 'x', options: { AllowNameChange: true } }] }, { patches: [{ patch: 'x', options: { AllowNameChange: true } }] }],
    // Keys matching no top-level field are left for the caller to refuse.
    [{ resourcez: [] }, { resourcez: [] }],
  ])('decodes %j', (input, expected) => {
    expect(decodeKustomizationFields(input, TOP)).toEqual(expected);
  });

  it('fails on an unknown nested field, naming the struct that holds it', () => {
    // GIVEN a misspelt option of a generator WHEN decoded strictly THEN the field and its place are named
    const decode = () => decodeKustomizationFields({ configMapGenerator: [{ name: 'g', options: { immutible: true } }] }, TOP);
    expect(decode).toThrow(UnknownFieldError);
    expect(decode).toThrow('unknown field "immutible" in configMapGenerator[0].options');
  });

  it('drops unknown nested fields when not strict', () => {
    expect(decodeKustomizationFields({ replacements: [{ Source: { kind: 'ConfigMap', extra: 1 } }] }, TOP, false)).toEqual({
      replacements: [{ source: { kind: 'ConfigMap' } }],
    });
  });
});

describe('parseKustomization', () => {
  it.each([
    // [kustomization text, Kustomize's refusal]
    ['', 'kustomization.yaml is empty'],
    ['# only a comment\n', 'kustomization.yaml is empty'],
    ['kind: Component\nresources:\nnamespace: ""\n', 'kustomization.yaml is empty'],
    ['apiVersion: kustomize.config.k8s.io/v1alpha1\nresources: []\n', 'apiVersion for Kustomization should be kustomize.config.k8s.io/v1beta1'],
    ['apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Component\nnamePrefix: x-\n', 'apiVersion for Component should be kustomize.config.k8s.io/v1alpha1'],
    ['apiVersion: v1\nkind: Kustomize\nnamePrefix: x-\n', 'kind should be Kustomization or Component; apiVersion for Kustomize should be kustomize.config.k8s.io/v1beta1'],
    ['patches:\n- paht: p.yaml\n', 'unknown field "paht" in patches[0]'],
  ])('fails on %j', (text, message) => {
    expect(() => parseKustomization(text, 'k/kustomization.yaml')).toThrow(RenderError);
    expect(() => parseKustomization(text, 'k/kustomization.yaml')).toThrow(message);
  });

  it.each([
    // [kustomization text] that Kustomize accepts though it sets little
    ['resources: []\n'],
    ['metadata: {}\n'],
    ['apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonLabels: {}\n'],
  ])('accepts %j', (text) => {
    expect(() => parseKustomization(text, 'k/kustomization.yaml')).not.toThrow();
  });
});
