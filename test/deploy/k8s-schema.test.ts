/**
 * Every Kubernetes object in infra/k8s validated against the Kubernetes API schemas (the
 * `kubernetes-models` packages: the OpenAPI schemas of the API server, compiled to validators),
 * so a wrong type, a missing required field or a bad enum value fails here, not at
 * `kubectl apply`. kustomization.yaml is kustomize's own config, not an API object: skipped.
 *
 * The schema packages are pinned to their last CommonJS releases (kubernetes-models 4, keda 0.4,
 * prometheus-operator 4): later ones ship ES modules only, which jest's CommonJS runtime cannot require.
 *
 * Limit: these validators accept fields the schema does not know (like `kubectl apply
 * --validate=false` would); deploy-files.test.ts cross-checks the fields the code depends on.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const K8S = join(ROOT, 'infra', 'k8s');

interface Validatable {
  validate(): void;
}
type ModelClass = new (data: unknown) => Validatable;

/**
 * The module of kubernetes-models that holds an apiVersion's kinds. Core (`v1`) and built-in
 * groups live in `kubernetes-models`; a CRD's group in its own package, listed here on purpose:
 * a manifest of another group fails the test until its schema package is added.
 */
function modelModule(apiVersion: string): string {
  if (!apiVersion.includes('/')) return `kubernetes-models/${apiVersion}`;
  const [group] = apiVersion.split('/');
  const crdPackages: Record<string, string> = { 'keda.sh': '@kubernetes-models/keda', 'monitoring.coreos.com': '@kubernetes-models/prometheus-operator' };
  if (group! in crdPackages) return `${crdPackages[group!]}/${apiVersion}`;
  if (group!.endsWith('.k8s.io') || !group!.includes('.')) return `kubernetes-models/${apiVersion}`;
  throw new Error(`no schema package for apiVersion ${apiVersion}: add its @kubernetes-models package`);
}

function modelClass(apiVersion: string, kind: string): ModelClass {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const mod = require(modelModule(apiVersion)) as Record<string, ModelClass | undefined>;
  const cls = mod[kind];
  if (!cls) throw new Error(`${apiVersion} has no kind ${kind}`);
  return cls;
}

/** Validates one object; returns the validator's message, or undefined when it is valid. */
function schemaErrors(doc: { apiVersion: string; kind: string }): string | undefined {
  try {
    new (modelClass(doc.apiVersion, doc.kind))(doc).validate();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

const manifests = readdirSync(K8S)
  .filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml')
  .sort()
  .flatMap((file) =>
    parseAllDocuments(readFileSync(join(K8S, file), 'utf8'))
      .map((d) => d.toJS() as { apiVersion: string; kind: string; metadata?: { name?: string } } | null)
      .filter((doc): doc is { apiVersion: string; kind: string; metadata?: { name?: string } } => doc != null)
      .map((doc) => ({ file, doc })),
  );

describe('Kubernetes manifests against the API schemas', () => {
  it('finds the manifests', () => {
    expect(manifests.length).toBeGreaterThanOrEqual(8);
  });

  it.each(manifests.map(({ file, doc }) => [`${file}: ${doc.kind}/${doc.metadata?.name ?? '?'}`, doc] as const))('%s is valid', (_name, doc) => {
    expect(schemaErrors(doc)).toBeUndefined();
  });

  it('rejects what the API server would (the check can fail)', () => {
    const worker = manifests.find(({ doc }) => doc.kind === 'Deployment')!.doc as any;
    const broken = structuredClone(worker);
    broken.spec.replicas = 'two';
    delete broken.spec.template.spec.containers[0].name;
    const message = schemaErrors(broken);
    expect(message).toMatch(/replicas must be integer/);
    expect(message).toMatch(/containers\/0 must have required property name/);
    const keda = manifests.find(({ doc }) => doc.kind === 'ScaledObject')!.doc as any;
    const badTrigger = structuredClone(keda);
    delete badTrigger.spec.scaleTargetRef;
    expect(schemaErrors(badTrigger)).toMatch(/scaleTargetRef/);
  });

  it('refuses an apiVersion without a schema package', () => {
    expect(() => modelModule('example.com/v1')).toThrow(/no schema package for apiVersion example.com\/v1/);
  });
});
