import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseWorkerEnv } from './env';
import { applyTensorrtSettings, tensorrtEnvironment } from './tensorrt-settings';

describe('TensorRT settings', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'trt-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('turns on engine and timing caches in a folder keyed by onnxruntime version and precision', () => {
    expect(tensorrtEnvironment({ cacheDir: '/c', fp16: true }, '1.30.0')).toEqual({
      ORT_TENSORRT_ENGINE_CACHE_ENABLE: '1',
      ORT_TENSORRT_TIMING_CACHE_ENABLE: '1',
      ORT_TENSORRT_CACHE_PATH: '/c/ort-1.30.0-fp16',
      ORT_TENSORRT_FP16_ENABLE: '1',
    });
    expect(tensorrtEnvironment({ cacheDir: '/c', fp16: false }, '1.30.0').ORT_TENSORRT_CACHE_PATH).toBe('/c/ort-1.30.0-fp32');
  });

  it('reads FLEET_TRT_CACHE_DIR and FLEET_TRT_FP16 from the environment, with defaults', () => {
    const defaults = parseWorkerEnv({});
    expect(defaults.FLEET_TRT_CACHE_DIR).toBe('/var/cache/flair-fleet/tensorrt');
    expect(defaults.FLEET_TRT_FP16).toBe(false);
    expect(parseWorkerEnv({ FLEET_TRT_FP16: 'true' }).FLEET_TRT_FP16).toBe(true);
    expect(() => parseWorkerEnv({ FLEET_TRT_FP16: 'yes' })).toThrow(/FLEET_TRT_FP16/);
  });

  it('creates the cache folder and exports the variables, keeping ones the operator set', () => {
    const env: NodeJS.ProcessEnv = { ORT_TENSORRT_FP16_ENABLE: '1' };
    const applied = applyTensorrtSettings({ cacheDir: dir, fp16: false }, '1.30.0', env);
    expect(applied.ORT_TENSORRT_CACHE_PATH).toBe(join(dir, 'ort-1.30.0-fp32'));
    expect(applied.ORT_TENSORRT_FP16_ENABLE).toBe('1');
    expect(env.ORT_TENSORRT_ENGINE_CACHE_ENABLE).toBe('1');
  });

  it('stops the worker at start when the cache folder cannot be written', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expect(() => applyTensorrtSettings({ cacheDir: join(file, 'sub'), fp16: false }, '1.30.0', {})).toThrow(
      expect.objectContaining({ exitCode: 2, message: expect.stringMatching(/^FLEET_TRT_CACHE_DIR: cannot write TensorRT engine cache .*a-file\/sub\/ort-1\.30\.0-fp32/) }),
    );
    if (process.getuid?.() !== 0) {
      chmodSync(dir, 0o500);
      expect(() => applyTensorrtSettings({ cacheDir: dir, fp16: false }, '1.30.0', {})).toThrow(/cannot write/);
      chmodSync(dir, 0o700);
    }
  });
});
