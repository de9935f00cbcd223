import { fromFile } from 'geotiff';
import { PNG } from 'pngjs';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startFleet, type FleetProcess } from './fleet-process';

/** Debian's chromium (installed by .ci/run), headless; WebGL through SwiftShader for OpenLayers' WebGL layers. */
export async function launchChromium(): Promise<Browser> {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return chromium.launch({
    executablePath: process.env.FLEET_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    args: [...(root ? ['--no-sandbox'] : []), '--use-angle=swiftshader', '--enable-unsafe-swiftshader'],
  });
}

/** A page whose console errors and uncaught exceptions are collected (the tests expect none). */
export async function watchedPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1100, height: 700 } });
  const errors: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return { page, errors };
}

/** `fleet console` as a process; resolves with its URL once it prints it. */
export async function startConsoleProcess(args: string[], env: Record<string, string>): Promise<{ fleet: FleetProcess; url: string }> {
  const fleet = startFleet(['console', '--port', '0', ...args], env);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const match = /console: (http:\/\/\S+\/)/.exec(fleet.stdout());
    if (match) return { fleet, url: match[1]! };
    if (fleet.child.exitCode !== null) throw new Error(`fleet console exited ${fleet.child.exitCode}: ${fleet.stderr()}`);
    if (Date.now() > deadline) throw new Error(`fleet console printed no URL in 30 s: ${fleet.stderr()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface UniformPlace {
  /** Map coordinates (Lambert-93) of the pixel's centre. */
  x: number;
  y: number;
  classId: number;
  /** Resolution of the COG image read (full resolution or an overview), metres per pixel. */
  resolution: number;
}

/**
 * A place in a COG image (0: full resolution, 1: the first overview) where a (2r+1)^2 pixel
 * square holds one class (not nodata), so a screenshot pixel at its centre has one answer
 * whatever sub-pixel rounding the renderer does; prefers places whose class differs at full
 * resolution (proves the overview was the image drawn) when `differFrom` is given.
 */
export async function uniformPlace(file: string, imageIndex: number, r: number, differFrom?: (x: number, y: number) => number): Promise<UniformPlace> {
  const tiff = await fromFile(file);
  try {
    const full = await tiff.getImage(0);
    const image = await tiff.getImage(imageIndex);
    const [originX, originY] = full.getOrigin() as [number, number];
    const [fullRes] = full.getResolution() as [number, number];
    const res = fullRes * (full.getWidth() / image.getWidth());
    const width = image.getWidth();
    const height = image.getHeight();
    const data = (await image.readRasters({ samples: [0] }))[0] as Uint8Array;
    let fallback: UniformPlace | undefined;
    for (let py = r; py < height - r; py += 3) {
      for (let px = r; px < width - r; px += 3) {
        const c = data[py * width + px]!;
        if (c === 0) continue;
        let uniform = true;
        for (let dy = -r; dy <= r && uniform; dy++) for (let dx = -r; dx <= r && uniform; dx++) uniform = data[(py + dy) * width + px + dx] === c;
        if (!uniform) continue;
        const place = { x: originX + (px + 0.5) * res, y: originY - (py + 0.5) * res, classId: c, resolution: res };
        if (!differFrom || differFrom(place.x, place.y) !== c) return place;
        fallback ??= place;
      }
    }
    if (fallback) return fallback;
    throw new Error(`${file}: no ${2 * r + 1}x${2 * r + 1} square of one class in image ${imageIndex}`);
  } finally {
    tiff.close();
  }
}

/** The class at map coordinates in a COG's full-resolution image. */
export async function classAt(file: string): Promise<(x: number, y: number) => number> {
  const tiff = await fromFile(file);
  const image = await tiff.getImage(0);
  const [originX, originY] = image.getOrigin() as [number, number];
  const [res] = image.getResolution() as [number, number];
  const data = (await image.readRasters({ samples: [0] }))[0] as Uint8Array;
  tiff.close();
  return (x, y) => data[Math.floor((originY - y) / res) * image.getWidth() + Math.floor((x - originX) / res)] ?? 0;
}

/** RGB of the pixel at the centre of an element's screenshot (where the map's view centre is drawn). */
export async function centreColour(page: Page, selector: string): Promise<[number, number, number]> {
  const png = PNG.sync.read(await page.locator(selector).screenshot());
  const i = (Math.floor(png.height / 2) * png.width + Math.floor(png.width / 2)) * 4;
  return [png.data[i]!, png.data[i + 1]!, png.data[i + 2]!];
}

export function hexColour(hex: string): [number, number, number] {
  const h = hex.replace('#', '');
  return [parseInt(h.slice(0, 2), 16), parseInt(h.slice(2, 4), 16), parseInt(h.slice(4, 6), 16)];
}
