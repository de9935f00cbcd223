import { outputKeys, type RunSpec } from '@fleet/jobs';
import { openStore } from '@fleet/storage';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { syntheticRunSpec } from '../../../test/support/run-spec-fixture';
import { summariseRefresh } from './refresh-summary';

function spec(runId: string, version: string, modelHash = 'a'.repeat(64)): RunSpec {
  return { ...syntheticRunSpec({ runId, width: 2000, height: 2000 }), inputs: { modelHash, dalles: { stack: { 'a.tif': version } } } };
}

describe('summariseRefresh', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'refresh-summary-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const putSpec = (s: unknown, runId: string) => {
    const path = join(root, outputKeys.runSpec(runId));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, typeof s === 'string' ? s : JSON.stringify(s));
  };

  it('compares with the published run kept spec: the changed dalle, every window of the one dalle re-inferred', async () => {
    putSpec(spec('run-old', 'v1'), 'run-old');
    const summary = await summariseRefresh(openStore(root), 'run-old', spec('run-new', 'v2'));
    expect(summary).toEqual({ previousRunId: 'run-old', changed: ['stack/a.tif'], added: [], removed: [], windows: 25, reinferPlanned: 25, blocksRemerged: 1, blocksCarried: 0 });
  });

  it('says why everything is recomputed when the model changed', async () => {
    putSpec(spec('run-old', 'v1'), 'run-old');
    expect(await summariseRefresh(openStore(root), 'run-old', spec('run-new', 'v1', 'b'.repeat(64)))).toMatchObject({ changed: [], everythingBecause: 'the model changed (model.onnx or model.json bytes)', reinferPlanned: 25 });
  });

  it('has nothing to compare with when the published run kept no spec, or one that does not parse', async () => {
    expect(await summariseRefresh(openStore(root), 'run-old', spec('run-new', 'v1'))).toBeUndefined();
    putSpec('{ half', 'run-old');
    expect(await summariseRefresh(openStore(root), 'run-old', spec('run-new', 'v1'))).toBeUndefined();
    putSpec({ runId: 'run-old' }, 'run-old');
    expect(await summariseRefresh(openStore(root), 'run-old', spec('run-new', 'v1'))).toBeUndefined();
  });
});
