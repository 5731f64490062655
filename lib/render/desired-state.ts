import { CONFIG_FILE } from '../config/load-config.js';
import type { CloudFormationTargetConfig, KubernetesTargetConfig, TargetConfig } from '../config/schema.js';
import type { CloudFormationDesiredState, DesiredState, KubernetesDesiredState } from '../core/target.js';
import { parseParameters, parseTemplate } from './cloudformation-template.js';
import type { FileTree } from './file-tree.js';
import { renderPath, type RenderOptions } from './render.js';

/**
 * A target's desired state at a commit: the rendered objects of a Kubernetes target, or a stack target's
 * template and parameters. `files` lists what was read (driftless.yaml included), the target's dependencies.
 */
export function renderDesired(tree: FileTree, target: KubernetesTargetConfig, o?: Pick<RenderOptions, 'capabilities'>): Promise<KubernetesDesiredState>;
export function renderDesired(tree: FileTree, target: CloudFormationTargetConfig, o?: Pick<RenderOptions, 'capabilities'>): Promise<CloudFormationDesiredState>;
export function renderDesired(tree: FileTree, target: TargetConfig, o?: Pick<RenderOptions, 'capabilities'>): Promise<DesiredState>;
export async function renderDesired(tree: FileTree, target: TargetConfig, o: Pick<RenderOptions, 'capabilities'> = {}): Promise<DesiredState> {
  if (target.type === 'cloudformation') {
    const read = async (p: string) => new TextDecoder().decode(await tree.read(p));
    const template = parseTemplate(await read(target.path), target.path);
    const parameters = target.parameters ? parseParameters(await read(target.parameters), target.parameters) : [];
    return { kind: 'cloudformation', template, parameters, files: new Set([target.path, ...(target.parameters ? [target.parameters] : []), CONFIG_FILE]) };
  }
  const rendered = await renderPath(tree, target.path, { target, ...(o.capabilities ? { capabilities: o.capabilities } : {}) });
  return { kind: 'kubernetes', objects: rendered.objects, files: new Set([...rendered.files, CONFIG_FILE]), warnings: rendered.warnings };
}
