/**
 * The deployment files (docker/, infra/) checked against the code they deploy: no Docker
 * engine or cluster here, so these tests parse the files and cross-check them with the apps'
 * env schemas, the queue names, BullMQ's key layout and the CLI.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { QueueKeys } from 'bullmq';
import { parseAllDocuments } from 'yaml';
import { checkBoardAccess } from '../../apps/board/src/start-board';
import { boardEnvShape } from '../../apps/board/src/env';
import { mergerEnvShape } from '../../apps/merger/src/env';
import { workerEnvShape } from '../../apps/worker/src/env';
import { groupConcurrency } from '../../apps/worker/src/group-concurrency';
import { chooseGroupSide } from '../../packages/grid/src/run-geometry';
import { parseScheduleAdd } from '../../apps/cli/src/schedule-args';
import { schedulerEnvShape } from '../../apps/cli/src/scheduler/scheduler-env';
import { preflightEnvShape } from '../../apps/coordinator/src/preflight/preflight-env';
import { requestProblems } from '../../apps/coordinator/src/preflight/request-check';
import { lifecycleEnv, logEnv, parseEnv, redisEnv, s3Env } from '../../packages/config/src/env-fragments';
import { QUEUES } from '../../packages/jobs/src/queue-names';
import { OPS_PATHS } from '../../packages/metrics/src/ops-server';

const ROOT = join(__dirname, '..', '..');
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8');

type Shape = Record<string, { safeParse(v: unknown): { success: boolean } }>;
type Env = Record<string, string>;

/** `fleet enqueue` / `fleet status` have no schema of their own: they read these fragments. */
const cliEnvShape = { ...redisEnv, ...s3Env, ...logEnv };
/** Read by the AWS SDK's provider chain, not by the apps' schemas (packages/storage/src/s3-env.ts). */
const AWS_SDK_ENV = new Set(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_REGION']);
/** serve.ts/enqueue.ts call requireRedisUrl: REDIS_URL is optional in the schema (`fleet run` starts its own Redis) but required to deploy. */
const DEPLOY_REQUIRED = ['REDIS_URL'];

/** `fleet scheduler` parses its own variables; its firings read the preflight's (FLEET_PROVIDER ...) and S3's. */
const schedulerShape = { ...cliEnvShape, ...preflightEnvShape, ...schedulerEnvShape };
const SHAPES: Record<string, Shape> = { worker: workerEnvShape, merger: mergerEnvShape, scheduler: schedulerShape, board: boardEnvShape, enqueue: cliEnvShape, status: cliEnvShape, help: cliEnvShape };

function requiredKeys(shape: Shape): string[] {
  const fromSchema = Object.keys(shape).filter((k) => !shape[k]!.safeParse(undefined).success);
  return [...new Set([...fromSchema, ...DEPLOY_REQUIRED])];
}

// --- YAML ----------------------------------------------------------------------------------

function listFiles(dir: string, pattern: RegExp): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(path, pattern));
    else if (pattern.test(entry.name)) out.push(path);
  }
  return out.sort();
}

function yamlDocs(path: string): any[] {
  const docs = parseAllDocuments(read(path), { merge: true });
  const list = Array.isArray(docs) ? docs : [];
  for (const d of list) expect({ path, errors: d.errors.map((e) => e.message) }).toEqual({ path, errors: [] });
  return list.map((d) => d.toJS()).filter((d) => d != null);
}

const YAML_FILES = listFiles('infra', /\.ya?ml$/);
const k8sDocs = listFiles('infra/k8s', /\.ya?ml$/).flatMap((f) => yamlDocs(f).map((doc) => ({ file: f, doc })));
const compose = yamlDocs('infra/compose/docker-compose.yml')[0];

function k8s(kind: string, name?: string): any {
  const found = k8sDocs.filter((d) => d.doc.kind === kind && (name === undefined || d.doc.metadata?.name === name));
  expect(found.map((d) => `${kind}/${d.doc.metadata?.name}`)).toHaveLength(1);
  return found[0]!.doc;
}

// --- compose interpolation: ${VAR:-default} -> default, ${VAR} -> '' ---------------------------

function interpolate(value: unknown): string {
  return String(value)
    .replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}/g, (_m, _name, def) => def ?? '')
    .replace(/\$\$/g, '$');
}

/** compose durations: 90s, 1m30s, 2m, 500ms */
function durationSeconds(text: string): number {
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let total = 0;
  let matched = '';
  for (const m of text.matchAll(re)) {
    matched += m[0];
    total += Number(m[1]) * { ms: 0.001, s: 1, m: 60, h: 3600 }[m[2] as 'ms' | 's' | 'm' | 'h'];
  }
  expect(matched).toBe(text);
  return total;
}

// --- k8s env resolution --------------------------------------------------------------------

const secret = k8s('Secret', 'flair-fleet-secrets');
const secretData: Env = secret.stringData ?? {};

function containerEnv(container: any): { names: string[]; env: Env } {
  const env: Env = {};
  const names: string[] = [];
  for (const from of container.envFrom ?? []) {
    const data: Env = from.configMapRef ? k8s('ConfigMap', from.configMapRef.name).data : from.secretRef ? k8s('Secret', from.secretRef.name).stringData : {};
    expect(data).toBeDefined();
    for (const [k, v] of Object.entries(data)) {
      names.push(k);
      env[k] = String(v);
    }
  }
  for (const e of container.env ?? []) {
    names.push(e.name);
    if (e.value !== undefined) env[e.name] = String(e.value);
    else if (e.valueFrom?.secretKeyRef) {
      const ref = e.valueFrom.secretKeyRef;
      expect({ secret: ref.name, key: ref.key, present: ref.key in k8s('Secret', ref.name).stringData }).toEqual({ secret: ref.name, key: ref.key, present: true });
      env[e.name] = secretData[ref.key]!;
    } else if (e.valueFrom?.configMapKeyRef) {
      env[e.name] = k8s('ConfigMap', e.valueFrom.configMapKeyRef.name).data[e.valueFrom.configMapKeyRef.key];
    }
  }
  return { names, env };
}

interface Component {
  where: string;
  command: string;
  names: string[];
  env: Env;
  shape: Shape;
}

function podSpecOf(doc: any): any {
  return doc.kind === 'CronJob' ? doc.spec.jobTemplate.spec.template.spec : doc.spec.template.spec;
}

const k8sComponents: Component[] = k8sDocs
  .filter((d) => ['Deployment', 'CronJob', 'Job', 'StatefulSet'].includes(d.doc.kind))
  .flatMap((d) =>
    podSpecOf(d.doc).containers.map((c: any) => {
      const command = c.args?.[0] ?? 'worker';
      return { where: `${d.file} ${d.doc.kind}/${d.doc.metadata.name}`, command, ...containerEnv(c), shape: SHAPES[command]! };
    }),
  );

const composeFleetServices = Object.entries<any>(compose.services).filter(([, s]) => s.build?.dockerfile === 'docker/Dockerfile');
const composeComponents: Component[] = composeFleetServices.map(([name, s]) => {
  const command = s.command?.[0] ?? 'worker';
  const env: Env = {};
  for (const [k, v] of Object.entries(s.environment ?? {})) env[k] = interpolate(v);
  return { where: `compose ${name}`, command, names: Object.keys(s.environment ?? {}), env, shape: SHAPES[command]! };
});

const components = [...k8sComponents, ...composeComponents];

// --- Dockerfile ----------------------------------------------------------------------------

interface Instruction {
  op: string;
  args: string;
}
interface Stage {
  name: string;
  from: string;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const logical = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, op, args] = /^(\S+)\s*(.*)$/.exec(line)!;
    const upper = op!.toUpperCase();
    if (upper === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args!)!;
      expect(m).not.toBeNull();
      stages.push({ name: m[2] ?? `#${stages.length}`, from: m[1]!, instructions: [] });
    } else {
      expect(stages.length).toBeGreaterThan(0);
      stages.at(-1)!.instructions.push({ op: upper, args: args! });
    }
  }
  return stages;
}

const dockerfile = read('docker/Dockerfile');
const stages = parseDockerfile(dockerfile);
const stage = (name: string): Stage => {
  const s = stages.find((x) => x.name === name);
  expect(s?.name).toBe(name);
  return s!;
};

/** ENV of a stage, inherited along FROM <stage>. */
function stageEnv(name: string): Env {
  const s = stage(name);
  const base = stages.some((x) => x.name === s.from) ? stageEnv(s.from) : {};
  const env = { ...base };
  for (const i of s.instructions.filter((x) => x.op === 'ENV')) {
    for (const m of i.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("[^"]*"|\S*)/g)) env[m[1]!] = m[2]!.replace(/^"|"$/g, '');
  }
  return env;
}

function copyFromStage(target: string, path: string): string {
  const copies = stage(target).instructions.filter((i) => i.op === 'COPY' && new RegExp(`--from=\\S+\\s+\\S*${path}\\b`).test(i.args));
  expect(copies).toHaveLength(1);
  return /--from=(\S+)/.exec(copies[0]!.args)![1]!;
}

const jsonArgs = (s: Stage, op: string): string[] => {
  const found = s.instructions.filter((i) => i.op === op);
  expect(found.length).toBeGreaterThan(0);
  return JSON.parse(found.at(-1)!.args);
};

/** A few rules of our own: pinned tags, no latest, non-root runtime, no remote ADD. */
function lintDockerfile(all: Stage[], runtimeStages: string[]): string[] {
  const problems: string[] = [];
  const names = new Set(all.map((s) => s.name));
  const checkImage = (image: string, where: string): void => {
    if (names.has(image)) return;
    const ref = image.replace(/@sha256:[0-9a-f]{64}$/, '');
    const tag = /:([^/:]+)$/.exec(ref)?.[1];
    if (!tag && !image.includes('@sha256:')) problems.push(`${where}: ${image} has no tag`);
    if (tag === 'latest') problems.push(`${where}: ${image} uses latest`);
    if (image.includes('$')) problems.push(`${where}: ${image} depends on a build arg`);
  };
  for (const s of all) {
    checkImage(s.from, `FROM (${s.name})`);
    for (const i of s.instructions) {
      const from = /--from=(\S+)/.exec(i.args)?.[1];
      if (i.op === 'COPY' && from && !/^\d+$/.test(from)) checkImage(from, `COPY --from (${s.name})`);
      if (i.op === 'ADD' && /https?:\/\//.test(i.args)) problems.push(`${s.name}: ADD of a URL (${i.args})`);
      if (i.op === 'MAINTAINER') problems.push(`${s.name}: MAINTAINER is deprecated`);
      if (i.op === 'RUN' && /apt-get install(?![^&;]*--no-install-recommends)/.test(i.args)) problems.push(`${s.name}: apt-get install without --no-install-recommends`);
      if (i.op === 'RUN' && /\bcurl\b[^|]*\|\s*(ba)?sh/.test(i.args)) problems.push(`${s.name}: pipes a download into a shell`);
    }
  }
  for (const name of runtimeStages) {
    const s = all.find((x) => x.name === name);
    const user = s?.instructions.filter((i) => i.op === 'USER').at(-1)?.args;
    if (!user) problems.push(`${name}: no USER (runs as root)`);
    else if (/^(root|0)(:|$)/.test(user)) problems.push(`${name}: USER ${user} is root`);
    else if (!/^\d+(:\d+)?$/.test(user)) problems.push(`${name}: USER ${user} is not numeric (Kubernetes runAsNonRoot cannot verify a name)`);
  }
  return problems;
}

// ===========================================================================================

describe('YAML files', () => {
  it('every file under infra/ parses (all documents, no errors)', () => {
    expect(YAML_FILES).toEqual(
      expect.arrayContaining(['infra/compose/docker-compose.yml', 'infra/k8s/worker-deployment.yaml', 'infra/k8s/keda-scaledobject.yaml', 'infra/k8s/scheduler-deployment.yaml']),
    );
    for (const f of YAML_FILES) expect(yamlDocs(f).length).toBeGreaterThan(0);
  });

  it('the kustomization lists every manifest but the Secret template, and all exist', () => {
    const kust = yamlDocs('infra/k8s/kustomization.yaml')[0];
    const manifests = listFiles('infra/k8s', /\.ya?ml$/).map((f) => relative('infra/k8s', f));
    expect([...kust.resources].sort()).toEqual(manifests.filter((f) => f !== 'kustomization.yaml' && f !== 'secret.template.yaml').sort());
    for (const d of k8sDocs.filter((x) => !['Namespace', 'Kustomization'].includes(x.doc.kind))) expect([d.file, d.doc.metadata.namespace]).toEqual([d.file, kust.namespace]);
  });
});

describe('environment of each deployed component', () => {
  it('finds the components', () => {
    expect(components.map((c) => `${c.where}: ${c.command}`).sort()).toEqual(
      [
        'compose board: board',
        'compose fleet: help',
        'compose merger: merger',
        'compose scheduler: scheduler',
        'compose worker: worker',
        'infra/k8s/board-deployment.yaml Deployment/flair-fleet-board: board',
        'infra/k8s/merger-deployment.yaml Deployment/flair-fleet-merger: merger',
        'infra/k8s/scheduler-deployment.yaml Deployment/flair-fleet-scheduler: scheduler',
        'infra/k8s/worker-deployment.yaml Deployment/flair-fleet-worker: worker',
      ].sort(),
    );
  });

  it.each(components.map((c) => [c.where, c] as const))('%s sets only variables its schema (or the AWS SDK) knows', (_w, c) => {
    const known = new Set([...Object.keys(c.shape), ...AWS_SDK_ENV]);
    expect(c.names.filter((n) => !known.has(n))).toEqual([]);
    expect(c.names.length).toBe(new Set(c.names).size);
  });

  it.each(components.map((c) => [c.where, c] as const))('%s sets every required variable, with values its schema accepts', (_w, c) => {
    for (const key of requiredKeys(c.shape)) expect([key, (c.env[key] ?? '').length > 0]).toEqual([key, true]);
    expect(c.env.REDIS_URL).toMatch(/^rediss?:\/\//);
    expect(() => parseEnv(c.shape as any, c.env)).not.toThrow();
  });

  it('every component shares one queue prefix, the schema default', () => {
    const defaultPrefix = parseEnv(workerEnvShape, {}).FLEET_QUEUE_PREFIX;
    expect(defaultPrefix).toBe('fleet');
    expect(parseEnv(mergerEnvShape, {}).FLEET_QUEUE_PREFIX).toBe(defaultPrefix);
    for (const c of components) expect([c.where, (parseEnv(c.shape as any, c.env) as any).FLEET_QUEUE_PREFIX]).toEqual([c.where, defaultPrefix]);
  });

  it('the k8s worker runs on CUDA with one GPU; compose runs CPU workers', () => {
    const w = k8sComponents.find((c) => c.command === 'worker')!;
    expect(parseEnv(workerEnvShape, w.env).FLEET_PROVIDER).toBe('cuda');
    const container = podSpecOf(k8s('Deployment', 'flair-fleet-worker')).containers[0];
    expect(container.image).toMatch(/:[\w.-]+-gpu$/);
    expect(container.resources.limits['nvidia.com/gpu']).toBe(1);
    const cw = composeComponents.find((c) => c.command === 'worker')!;
    expect(parseEnv(workerEnvShape, cw.env).FLEET_PROVIDER).toBe('cpu');
    expect(compose.services.worker.build.target).toBe('cpu');
    // no fallback: a GPU worker without CUDA stops at start rather than run on the CPU
    expect(parseEnv(workerEnvShape, w.env).FLEET_PROVIDER_FALLBACK).toBeUndefined();
  });

  it('workers preload (FLEET_MODEL) the model the runs name, from a volume they mount', () => {
    const w = k8sComponents.find((c) => c.command === 'worker')!;
    const k8sModel = parseEnv(workerEnvShape, w.env).FLEET_MODEL;
    expect(k8sModel).toBe(documentedSchedule().request.model);
    const mounts: { mountPath: string }[] = podSpecOf(k8s('Deployment', 'flair-fleet-worker')).containers[0].volumeMounts;
    expect(mounts.some((m) => k8sModel!.startsWith(`${m.mountPath}/`))).toBe(true);
    const cw = composeComponents.find((c) => c.command === 'worker')!;
    const composeModel = parseEnv(workerEnvShape, cw.env).FLEET_MODEL;
    expect(composeModel).toBe('/data/model');
    expect(compose.services.worker.volumes.some((v: string) => v.endsWith(':/data:ro'))).toBe(true);
  });

  it('compose S3 settings point the fleet at MinIO with path-style addressing', () => {
    const env = composeComponents.find((c) => c.command === 'worker')!.env;
    expect(env.S3_ENDPOINT).toBe('http://minio:9000');
    expect(env.S3_FORCE_PATH_STYLE).toBe('true');
    expect(env.AWS_ACCESS_KEY_ID).toBe(interpolate(compose.services.minio.environment.MINIO_ROOT_USER));
    expect(env.AWS_SECRET_ACCESS_KEY).toBe(interpolate(compose.services.minio.environment.MINIO_ROOT_PASSWORD));
    const redisPassword = new URL(env.REDIS_URL!).password;
    const cmd: string[] = compose.services.redis.command.map(interpolate);
    expect(cmd[cmd.indexOf('--requirepass') + 1]).toBe(redisPassword);
  });
});

describe('graceful shutdown deadlines', () => {
  const shutdownMs = (c: Component): number => (parseEnv(c.shape as any, c.env) as any).FLEET_SHUTDOWN_MS;

  it('the schema default is what serve.ts waits for', () => {
    expect(parseEnv(lifecycleEnv, {}).FLEET_SHUTDOWN_MS).toBe(60_000);
    expect(read('apps/cli/src/commands/serve.ts')).toMatch(/serve\('worker', env\.FLEET_SHUTDOWN_MS/);
  });

  it.each(['worker', 'merger'])('k8s %s: terminationGracePeriodSeconds > FLEET_SHUTDOWN_MS', (command) => {
    const c = k8sComponents.find((x) => x.command === command)!;
    const grace = podSpecOf(k8s('Deployment', `flair-fleet-${command}`)).terminationGracePeriodSeconds;
    expect(shutdownMs(c)).toBe(command === 'worker' ? 60_000 : 120_000);
    expect(grace).toBeGreaterThan(shutdownMs(c) / 1000);
    expect(grace).toBe(shutdownMs(c) / 1000 + 30);
  });

  it.each(['worker', 'merger'])('compose %s: stop_grace_period > FLEET_SHUTDOWN_MS, signal SIGTERM', (name) => {
    const c = composeComponents.find((x) => x.where === `compose ${name}`)!;
    const service = compose.services[name];
    expect(durationSeconds(service.stop_grace_period)).toBeGreaterThan(shutdownMs(c) / 1000);
    expect(service.stop_signal).toBe('SIGTERM');
  });

  it('compose runs several workers and one merger', () => {
    expect(compose.services.worker.deploy.replicas).toBeGreaterThan(1);
    expect(compose.services.worker.container_name).toBeUndefined();
    expect(compose.services.merger.deploy?.replicas ?? 1).toBe(1);
  });
});

describe('probes and Prometheus scrape of the long-lived processes', () => {
  const deployments = ['flair-fleet-worker', 'flair-fleet-merger'].map((name) => k8s('Deployment', name));
  const metricsSettings = (shape: Shape, env: Env) => parseEnv(shape as any, env) as { FLEET_METRICS_PORT: number; FLEET_METRICS_HOST: string };

  it.each(deployments.map((d) => [d.metadata.name, d] as const))('%s: the metrics port the process listens on is the one probed and scraped', (_n, d) => {
    const pod = d.spec.template;
    const container = pod.spec.containers[0];
    const { env } = containerEnv(container);
    const settings = metricsSettings(SHAPES[container.args[0]]!, env);
    // off by default: the manifest must turn it on, on every interface (the kubelet probes the pod IP)
    expect(settings.FLEET_METRICS_PORT).toBeGreaterThan(0);
    expect(settings.FLEET_METRICS_HOST).toBe('0.0.0.0');
    const port = container.ports.find((p: any) => p.name === 'metrics');
    expect(port).toEqual({ name: 'metrics', containerPort: settings.FLEET_METRICS_PORT, protocol: 'TCP' });
    expect(container.livenessProbe.httpGet).toEqual({ path: OPS_PATHS.live, port: 'metrics' });
    expect(container.readinessProbe.httpGet).toEqual({ path: OPS_PATHS.ready, port: 'metrics' });
    expect(container.startupProbe.httpGet).toEqual({ path: OPS_PATHS.live, port: 'metrics' });
    // a probe must wait longer than the Redis PING it includes
    expect(container.livenessProbe.timeoutSeconds * 1000).toBeGreaterThan((parseEnv(SHAPES[container.args[0]] as any, env) as any).FLEET_LIVEZ_REDIS_TIMEOUT_MS);
    expect(pod.metadata.annotations).toEqual({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': String(settings.FLEET_METRICS_PORT), 'prometheus.io/path': OPS_PATHS.metrics });
  });

  it('the PodMonitor selects both pods and scrapes their metrics port at /metrics', () => {
    const monitor = k8s('PodMonitor', 'flair-fleet');
    const selector: Record<string, string> = monitor.spec.selector.matchLabels;
    for (const d of deployments) expect([d.metadata.name, Object.entries(selector).every(([k, v]) => d.spec.template.metadata.labels[k] === v)]).toEqual([d.metadata.name, true]);
    expect(monitor.spec.podMetricsEndpoints).toEqual([expect.objectContaining({ port: 'metrics', path: OPS_PATHS.metrics })]);
  });

  it.each([['worker'], ['merger']])('compose %s: serves on the port its healthcheck asks /readyz of', (name) => {
    const c = composeComponents.find((x) => x.where === `compose ${name}`)!;
    const settings = metricsSettings(c.shape, c.env);
    expect(settings.FLEET_METRICS_HOST).toBe('0.0.0.0');
    expect(compose.services[name].healthcheck.test.join(' ')).toContain(`http://127.0.0.1:${settings.FLEET_METRICS_PORT}${OPS_PATHS.ready}`);
  });
});

describe('KEDA autoscaling of the workers', () => {
  const scaled = k8s('ScaledObject', 'flair-fleet-worker');
  const worker = k8sComponents.find((c) => c.command === 'worker')!;
  const workerEnv = parseEnv(workerEnvShape, worker.env);
  const keys = new QueueKeys(workerEnv.FLEET_QUEUE_PREFIX).getKeys(QUEUES.infer);
  const triggers: any[] = scaled.spec.triggers;

  it('targets the worker Deployment and no replica count fights it', () => {
    expect(scaled.spec.scaleTargetRef.name).toBe('flair-fleet-worker');
    expect(k8s('Deployment', 'flair-fleet-worker').spec.replicas).toBeUndefined();
    expect(scaled.spec.maxReplicaCount).toBeGreaterThan(scaled.spec.minReplicaCount);
  });

  it("watches BullMQ's wait list of the infer queue under the fleet's prefix", () => {
    expect(QUEUES.infer).toBe('fleet-infer');
    expect(keys.wait).toBe('fleet:fleet-infer:wait');
    const wait = triggers.find((t) => t.name === 'infer-wait');
    expect(wait.type).toBe('redis');
    expect(wait.metadata.listName).toBe(keys.wait);
    expect(wait.metadata.listName).toBe(`${workerEnv.FLEET_QUEUE_PREFIX}:${QUEUES.infer}:wait`);
    expect(Number(wait.metadata.listLength)).toBeGreaterThan(0);
  });

  it("keeps workers that hold windows: active-list target = the group jobs a worker holds of a département's largest groups", () => {
    const active = triggers.find((t) => t.name === 'infer-active');
    expect(active.metadata.listName).toBe(keys.active);
    const maxGroupWindows = chooseGroupSide(Number.MAX_SAFE_INTEGER) ** 2;
    const concurrency = workerEnv.FLEET_CONCURRENCY ?? groupConcurrency(workerEnv.FLEET_BATCH_SIZE * 2, maxGroupWindows);
    expect(Number(active.metadata.listLength)).toBe(concurrency);
  });

  it('never watches the merge queue (mergers are not GPU workers)', () => {
    for (const t of triggers) expect(t.metadata.listName).not.toContain(QUEUES.merge);
  });

  it('reads the same Redis as REDIS_URL, with the password from the Secret', () => {
    const url = new URL(secretData.REDIS_URL!);
    for (const t of triggers) {
      expect(t.metadata.address).toBe(`${url.hostname}:${url.port || '6379'}`);
      expect(t.metadata.databaseIndex ?? '0').toBe(url.pathname.replace('/', '') || '0');
      expect(t.metadata.enableTLS ?? 'false').toBe(url.protocol === 'rediss:' ? 'true' : 'false');
      expect(t.authenticationRef.name).toBe('flair-fleet-redis');
    }
    const auth = k8s('TriggerAuthentication', 'flair-fleet-redis');
    expect(auth.spec.secretTargetRef).toEqual([{ parameter: 'password', name: 'flair-fleet-secrets', key: 'REDIS_PASSWORD' }]);
    expect('REDIS_PASSWORD' in secretData).toBe(true);
  });
});

/**
 * The `fleet schedule add 92 ...` command infra/README.md documents (a département is a
 * schedule, not a manifest), as the CLI parses it.
 */
function documentedSchedule(): ReturnType<typeof parseScheduleAdd> {
  const readme = read('infra/README.md');
  const m = /node apps\/cli\/bin\/fleet\.js \\\n\s*schedule add ((?:.|\n)*?)\n\s*kubectl/.exec(readme);
  expect(m).not.toBeNull();
  const words = m![1]!.replace(/\\\n/g, ' ').match(/"[^"]*"|\S+/g)!.map((w) => w.replace(/^"|"$/g, ''));
  return parseScheduleAdd(words, requestProblems);
}

describe('scheduler Deployment', () => {
  const deployment = k8s('Deployment', 'flair-fleet-scheduler');
  const pod = podSpecOf(deployment);
  const container = pod.containers[0];

  it('runs one `fleet scheduler`; no CronJob is left (schedules live in Redis)', () => {
    expect(container.args).toEqual(['scheduler']);
    expect(deployment.spec.replicas).toBe(1);
    expect(k8sDocs.filter((d) => d.doc.kind === 'CronJob')).toEqual([]);
    // its graceful shutdown (handing firings back) fits in the grace period
    const env = parseEnv(schedulerShape as any, k8sComponents.find((c) => c.command === 'scheduler')!.env) as any;
    expect(pod.terminationGracePeriodSeconds * 1000).toBeGreaterThan(env.FLEET_SHUTDOWN_MS);
  });

  it('the documented département 92 is a schedule the CLI accepts', () => {
    const add = documentedSchedule();
    expect(add).toMatchObject({ name: '92', cron: '30 1 * * *', tz: 'Europe/Paris' });
    expect(add.request.sources).toEqual({ rgb: 's3://flair-ortho/D092/RVB', irc: 's3://flair-ortho/D092/IRC', elevation: 's3://flair-ortho/D092/E' });
    expect(add.request.output).toMatch(/^s3:\/\//);
  });

  it('mounts the model where the workers mount it (the run spec records the path)', () => {
    const { request } = documentedSchedule();
    const mountOf = (spec: any, c: any) => {
      const m = c.volumeMounts.find((v: any) => request.model.startsWith(`${v.mountPath}/`));
      expect(m).toBeDefined();
      return { mountPath: m.mountPath, claim: spec.volumes.find((v: any) => v.name === m.name).persistentVolumeClaim.claimName };
    };
    const workerPod = podSpecOf(k8s('Deployment', 'flair-fleet-worker'));
    expect(mountOf(pod, container)).toEqual(mountOf(workerPod, workerPod.containers[0]));
    expect(k8s('PersistentVolumeClaim', mountOf(pod, container).claim).spec.accessModes).toContain('ReadOnlyMany');
  });
});

describe('redis.conf', () => {
  const conf = new Map<string, string[]>();
  for (const line of read('infra/redis/redis.conf').split('\n')) {
    const t = line.trim();
    if (!t || t.startsWith('#')) continue;
    const [key, ...rest] = t.split(/\s+/);
    conf.set(key!.toLowerCase(), [...(conf.get(key!.toLowerCase()) ?? []), rest.join(' ')]);
  }
  const one = (key: string): string | undefined => conf.get(key)?.at(-1);

  it('persists with AOF, fsync every second', () => {
    expect(one('appendonly')).toBe('yes');
    expect(one('appendfsync')).toBe('everysec');
  });

  it('never evicts (BullMQ requirement)', () => {
    expect(one('maxmemory-policy')).toBe('noeviction');
  });

  it('keeps protected mode, no password in the file, no idle timeout', () => {
    expect(one('protected-mode')).toBe('yes');
    expect(conf.has('requirepass')).toBe(false);
    expect(one('timeout')).toBe('0');
  });

  it('is the file compose starts Redis with', () => {
    const redis = compose.services.redis;
    const mount = redis.volumes.find((v: string) => v.startsWith('../redis/redis.conf:'));
    expect(mount).toBeDefined();
    expect(redis.command).toContain(mount.split(':')[1]);
    expect(existsSync(join(ROOT, 'infra/compose', mount.split(':')[0]))).toBe(true);
  });
});

describe('docker/Dockerfile', () => {
  it('has the cpu and gpu targets, each starting `fleet worker` by default', () => {
    const names = stages.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['build', 'cpu', 'gpu']));
    for (const name of ['cpu', 'gpu']) {
      const s = stage(name);
      expect(jsonArgs(s, 'ENTRYPOINT')).toEqual(['node', 'apps/cli/bin/fleet.js']);
      expect(jsonArgs(s, 'CMD')).toEqual(['worker']);
      expect(s.instructions.filter((i) => i.op === 'STOPSIGNAL').map((i) => i.args)).toEqual(['SIGTERM']);
      expect(s.instructions.some((i) => i.op === 'HEALTHCHECK')).toBe(false);
    }
  });

  it('the entrypoint is a file in the repo, and the CLI knows the default command', () => {
    const entry = jsonArgs(stage('cpu'), 'ENTRYPOINT')[1]!;
    expect(existsSync(join(ROOT, entry))).toBe(true);
    expect(read(entry)).toContain("require('../dist/main.js')");
    expect(existsSync(join(ROOT, 'apps/cli/src/main.ts'))).toBe(true);
    expect(read('apps/cli/src/main.ts')).toContain("case 'worker':");
    expect(JSON.parse(read('package.json')).bin.fleet).toBe(entry);
  });

  it('bases cpu on a supported Node LTS (22 or 24) slim and gpu on a CUDA 12 + cuDNN runtime with the same Node', () => {
    expect(stage('build').from).toMatch(/^node:(22|24)(\.\d+)*-bookworm$/);
    expect(stage('cpu').from).toMatch(/^node:(22|24)(\.\d+)*-bookworm-slim$/);
    const major = /^node:(\d+)/.exec(stage('build').from)![1];
    expect(stage('cpu').from.startsWith(`node:${major}`)).toBe(true);
    expect(stage('gpu').from).toMatch(/^nvidia\/cuda:12\.[\d.]+-cudnn\d*-runtime-ubuntu[\d.]+$/);
    expect(stage('gpu').instructions.some((i) => i.op === 'COPY' && new RegExp(`--from=node:${major}(\\.\\d+)*-bookworm(-slim)?\\s+/usr/local/bin/node\\s`).test(i.args))).toBe(true);
    expect(stageEnv('gpu').FLEET_PROVIDER).toBe('cuda');
    expect(stageEnv('cpu').FLEET_PROVIDER).toBe('cpu');
  });

  it('CPU path: npm ci with the onnxruntime-node download skipped', () => {
    const from = copyFromStage('cpu', 'node_modules');
    expect(from).toBe('build');
    expect(stageEnv('build').ONNXRUNTIME_NODE_INSTALL).toBe('skip');
    expect(stageEnv(from).ONNXRUNTIME_NODE_INSTALL).toBe('skip');
    const runs = stage('build').instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => /\bnpm ci\b/.test(r))).toBe(true);
    expect(runs.some((r) => /npm prune --omit=dev/.test(r))).toBe(true);
    expect(runs.some((r) => /npm run build|turbo run build/.test(r))).toBe(true);
    // a setting npm knows (npm 10 and 11): no dependency's install script runs, onnxruntime-node's included
    expect(read('.npmrc')).toMatch(/^ignore-scripts=true$/m);
    expect(read('.npmrc')).not.toMatch(/onnxruntime-node-install/);
  });

  it('GPU path: installs the CUDA 12 provider libraries at build time, never skips', () => {
    const from = copyFromStage('gpu', 'node_modules');
    expect(from).not.toBe('build');
    const env = stageEnv(from);
    expect(env.ONNXRUNTIME_NODE_INSTALL).toBe('cuda12');
    // a value onnxruntime-node's install script accepts on linux/x64
    const metadata = require(join(ROOT, 'node_modules/onnxruntime-node/script/install-metadata.js'));
    expect(metadata.requirements['linux/x64']).toContain(env.ONNXRUNTIME_NODE_INSTALL);
    expect(Object.keys(metadata.manifests['linux/x64:cuda12'])).toContain('./libonnxruntime_providers_cuda.so');
    const runs = stage(from).instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(runs.some((r) => r.includes('node_modules/onnxruntime-node/script/install.js') && r.includes('libonnxruntime_providers_cuda.so'))).toBe(true);
    for (const name of [from, 'gpu']) {
      for (const i of stage(name).instructions) expect([name, i.op, /ONNXRUNTIME_NODE_INSTALL=skip|onnxruntime-node-install=skip/.test(i.args)]).toEqual([name, i.op, false]);
    }
    expect(stageEnv('gpu').ONNXRUNTIME_NODE_INSTALL).toBeUndefined();
    for (const path of ['node_modules', 'packages', 'apps']) expect(copyFromStage('gpu', path)).toBe(from);
    // the build checks that the CUDA and TensorRT providers' libraries resolve in the runtime image
    const gpuRuns = stage('gpu').instructions.filter((i) => i.op === 'RUN').map((i) => i.args);
    expect(gpuRuns.some((r) => /libnvinfer10/.test(r) && /libnvonnxparsers10/.test(r) && /--no-install-recommends/.test(r))).toBe(true);
    expect(gpuRuns.some((r) => /\bldd\b/.test(r) && r.includes('libonnxruntime_providers_cuda.so') && r.includes('libonnxruntime_providers_tensorrt.so') && /exit 1/.test(r))).toBe(true);
  });

  it('passes our lint rules (pinned tags, no latest, non-root numeric USER, no remote ADD)', () => {
    expect(lintDockerfile(stages, ['cpu', 'gpu'])).toEqual([]);
    expect(stage('cpu').instructions.filter((i) => i.op === 'USER').at(-1)!.args).toBe('10001:10001');
  });

  it('the linter catches what it should', () => {
    const bad = parseDockerfile(['FROM node AS a', 'FROM ubuntu:latest AS b', 'ADD https://example.com/x.tgz /x', 'COPY --from=alpine /x /y', 'USER root'].join('\n'));
    expect(lintDockerfile(bad, ['a', 'b'])).toEqual([
      'FROM (a): node has no tag',
      'FROM (b): ubuntu:latest uses latest',
      'b: ADD of a URL (https://example.com/x.tgz /x)',
      'COPY --from (b): alpine has no tag',
      'a: no USER (runs as root)',
      'b: USER root is root',
    ]);
  });

  it('k8s and compose run the uid the image creates', () => {
    for (const d of k8sDocs.filter((x) => ['Deployment', 'CronJob'].includes(x.doc.kind))) {
      const sc = podSpecOf(d.doc).securityContext;
      expect([d.doc.metadata.name, sc.runAsNonRoot, sc.runAsUser]).toEqual([d.doc.metadata.name, true, 10001]);
    }
  });

  it('its .dockerignore sits next to it and keeps out node_modules, dist, .git and .env files', () => {
    const lines = read('docker/Dockerfile.dockerignore')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    expect(lines).toEqual(expect.arrayContaining(['.git', '**/node_modules', '**/dist', '.env', '**/.env']));
    // what the build needs stays in the context
    for (const needed of ['package.json', 'package-lock.json', '.npmrc', 'tsconfig.base.json', 'turbo.json', 'apps', 'packages', 'apps/cli/bin/fleet.js']) {
      expect([needed, lines.includes(needed) || lines.includes(`/${needed}`) || lines.includes(needed.split('/')[0]!)]).toEqual([needed, false]);
    }
    expect(compose.services.worker.build).toEqual({ context: '../..', dockerfile: 'docker/Dockerfile', target: 'cpu' });
  });
});

describe('no secrets committed', () => {
  it('the Secret is a template: empty values or CHANGE_ME placeholders, no base64 data', () => {
    expect(secret.data).toBeUndefined();
    expect(Object.keys(secretData).sort()).toEqual(['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'FLEET_BOARD_TOKEN', 'FLEET_NOTIFY_URL', 'REDIS_PASSWORD', 'REDIS_URL']);
    for (const [key, value] of Object.entries(secretData)) expect([key, value === '' || value.includes('CHANGE_ME')]).toEqual([key, true]);
    expect(new URL(secretData.REDIS_URL!).password).toBe('CHANGE_ME');
  });

  it('compose takes every credential from the environment (local defaults only)', () => {
    const credential = /PASSWORD|SECRET|ACCESS_KEY|REDISCLI_AUTH|TOKEN/;
    for (const [name, s] of Object.entries<any>(compose.services)) {
      for (const [key, value] of Object.entries<any>(s.environment ?? {})) {
        if (credential.test(key)) expect([name, key, String(value)]).toEqual([name, key, expect.stringMatching(/^\$\{[A-Z_]+:-[\w-]+\}$/)]);
        if (key === 'REDIS_URL') expect([name, String(value)]).toEqual([name, expect.stringContaining(':${REDIS_PASSWORD')]);
      }
    }
  });

  it('no AWS keys or private keys anywhere in docker/ or infra/', () => {
    for (const f of [...listFiles('infra', /./), ...listFiles('docker', /./)]) {
      const text = read(f);
      expect([f, /AKIA[0-9A-Z]{16}/.test(text), /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text)]).toEqual([f, false, false]);
    }
  });

  it('images are pinned, never latest', () => {
    const images = [
      ...Object.values<any>(compose.services).map((s) => s.image),
      ...k8sDocs.filter((x) => ['Deployment', 'CronJob'].includes(x.doc.kind)).flatMap((x) => podSpecOf(x.doc).containers.map((c: any) => c.image)),
    ];
    for (const image of images) expect(image).toMatch(/^[\w./-]+:(?!latest$)[\w.-]+$/);
  });
});

describe('fleet board (Bull Board) in compose and k8s', () => {
  const deployment = k8s('Deployment', 'flair-fleet-board');
  const pod = podSpecOf(deployment);
  const container = pod.containers[0];
  const service = k8s('Service', 'flair-fleet-board');
  const board = compose.services.board;
  const option = (args: string[], name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);

  it('k8s: listens beyond loopback, so the token comes from the Secret, required (no optional ref)', () => {
    expect(container.args[0]).toBe('board');
    const host = option(container.args, '--host')!;
    expect(() => checkBoardAccess(host, undefined)).toThrow(/^refusing to listen on 0\.0\.0\.0 without FLEET_BOARD_TOKEN/);
    const ref = container.env.find((e: any) => e.name === 'FLEET_BOARD_TOKEN').valueFrom.secretKeyRef;
    expect(ref).toEqual({ name: 'flair-fleet-secrets', key: 'FLEET_BOARD_TOKEN' });
    // a real token passes; the template's empty one makes the pod refuse to start
    expect(() => checkBoardAccess(host, parseEnv(boardEnvShape, { FLEET_BOARD_TOKEN: 'x'.repeat(24) }).FLEET_BOARD_TOKEN)).not.toThrow();
    expect(parseEnv(boardEnvShape, { FLEET_BOARD_TOKEN: secretData.FLEET_BOARD_TOKEN }).FLEET_BOARD_TOKEN).toBeUndefined();
    expect(container.args).not.toContain('--allow-actions');
  });

  it('k8s: the Service selects the board pods and targets the port it listens on; probes are TCP (every path answers 401)', () => {
    const port = container.ports.find((p: any) => p.name === 'http');
    expect(String(port.containerPort)).toBe(option(container.args, '--port'));
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(deployment.spec.template.metadata.labels).toMatchObject(service.spec.selector);
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http' }]);
    for (const probe of [container.readinessProbe, container.livenessProbe]) expect(probe.tcpSocket).toEqual({ port: 'http' });
    expect(container.image).toMatch(/-cpu$/);
    expect(container.resources.limits['nvidia.com/gpu']).toBeUndefined();
  });

  it('compose: published on 127.0.0.1 only, at the port it listens on, with a token the board accepts', () => {
    expect(board.command.slice(0, 1)).toEqual(['board']);
    const port = option(board.command, '--port');
    expect(board.ports).toEqual([`127.0.0.1:${port}:${port}`]);
    const token = parseEnv(boardEnvShape, Object.fromEntries(Object.entries(board.environment).map(([k, v]) => [k, interpolate(v)]))).FLEET_BOARD_TOKEN;
    expect(() => checkBoardAccess(option(board.command, '--host')!, token)).not.toThrow();
    // healthy means answering, and without the token it answers 401
    expect(board.healthcheck.test.join(' ')).toContain(`http://127.0.0.1:${port}/`);
    expect(board.healthcheck.test.join(' ')).toContain('r.status === 401');
    expect(board.depends_on.redis.condition).toBe('service_healthy');
  });
});
