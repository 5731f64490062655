import type { startPipeline } from './pipeline.js';
import { REPO } from './pipeline.js';

/** The pipeline the end-to-end and fault tests run against (test/support/pipeline.ts). */
export type Pipeline = Awaited<ReturnType<typeof startPipeline>>;

/** A Namespace manifest. */
export const ns = (name: string) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${name}\n`;
/** A ConfigMap manifest with one `value`. */
export const cm = (name: string, value: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\ndata:\n  value: "${value}"\n`;

/** The one-target repository of the fault tests: `web`, on the dev cluster, in namespace shop-web. */
export const WEB_CONFIG = `version: 1
targets:
  - name: web
    path: deploy/web
    cluster: dev
    namespace: shop-web
`;
export const WEB_ID = `${REPO}/web`;
/** What `web` applies: the kinds `expectSettled` checks. */
export const WEB_KINDS: [string, string][] = [
  ['v1', 'Namespace'],
  ['v1', 'ConfigMap'],
];
