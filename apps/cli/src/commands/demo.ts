import { writeDemoModel } from '@fleet/demo-data';
import { openGeoTiff } from '@fleet/raster';
import { rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { CliError } from '../cli-error';
import { writeDemoMosaic, type DemoMosaic } from '../demo-mosaic';
import { RunProgressBar } from '../progress';
import { intOption, joinNegativeValues } from '../run-args';
import { runPipeline } from '../run-pipeline';
import { printRunSummary } from '../run-summary';
import type { RunReport } from '@fleet/merger';
import { DEMO_USAGE } from '../usage';

export async function demoCommand(argv: string[]): Promise<number> {
  let values;
  try {
    values = parseArgs({
      args: joinNegativeValues(argv, { out: { type: 'string' }, dalles: { type: 'string' }, 'dalle-px': { type: 'string' }, workers: { type: 'string' }, help: { type: 'boolean', short: 'h' } }),
      options: { out: { type: 'string' }, dalles: { type: 'string' }, 'dalle-px': { type: 'string' }, workers: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    }).values;
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${DEMO_USAGE}\n`);
    return 0;
  }
  const out = resolve(values.out ?? 'demo-output');
  const dalles = intOption('dalles', values.dalles, 1) ?? 2;
  const dallePx = intOption('dalle-px', values['dalle-px'], 64) ?? 1280;
  const workers = intOption('workers', values.workers, 1) ?? 1;

  await rm(out, { recursive: true, force: true });
  process.stderr.write(`writing a ${dalles}x${dalles}-dalle synthetic mosaic and the demo model to ${out}\n`);
  const mosaic = await writeDemoMosaic(join(out, 'inputs'), dalles, dallePx, 2154);
  const modelDir = join(out, 'model');
  await writeDemoModel(modelDir);

  const bar = new RunProgressBar();
  let result;
  try {
    result = await runPipeline(
      { sources: { rgb: mosaic.rgb, irc: mosaic.irc, elevation: mosaic.elevation }, model: modelDir, output: join(out, 'map') },
      { workers, env: process.env, onProgress: (p) => bar.update(p), note: (m) => process.stderr.write(`${m}\n`) },
    );
  } finally {
    bar.stop();
  }
  // the demo writes new inputs into an emptied folder, so its run is never the published one
  if ('published' in result) throw new Error(`demo: ${join(out, 'map')} already holds run ${result.runId}, which a fresh demo cannot`);
  printRunSummary(result.report, join(out, 'map'), result.logDir);
  const agreement = await agreementWithTruth(result.report, join(out, 'map'), mosaic);
  process.stdout.write(`agreement with the synthetic ground truth: ${(agreement * 100).toFixed(1)}% of pixels\n`);
  process.stdout.write(`open it: gdalinfo ${join(out, 'map', 'mosaic.vrt')}   (or drag mosaic.vrt into QGIS)\n`);
  process.stdout.write(`see it in a browser: fleet console --out ${join(out, 'map')}   (then open http://127.0.0.1:8080/#/map)\n`);
  return result.report.complete ? 0 : 1;
}

/** Share of pixels where the merged map equals the landscape's ground truth. */
async function agreementWithTruth(report: RunReport, mapDir: string, mosaic: DemoMosaic): Promise<number> {
  let same = 0;
  let total = 0;
  const gt = report.mosaic.geoTransform;
  for (const block of report.blocks) {
    const file = await openGeoTiff(join(mapDir, block.key));
    try {
      const x0 = Math.round((file.geoTransform[0] - gt[0]) / gt[1]);
      const y0 = Math.round((file.geoTransform[3] - gt[3]) / gt[5]);
      const [classes] = await file.readWindow({ x: 0, y: 0, width: file.width, height: file.height });
      for (let y = 0; y < file.height; y++) {
        for (let x = 0; x < file.width; x++) {
          total++;
          if (classes![y * file.width + x] === mosaic.truth[(y0 + y) * mosaic.width + x0 + x]) same++;
        }
      }
    } finally {
      await file.close();
    }
  }
  return total ? same / total : 0;
}
