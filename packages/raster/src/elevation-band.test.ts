import { bilinearAtPixelCentres, elevationFromSurfaces, markSurfaceNoData, surfaceGridOn, surfaceRectFor } from './elevation-band';

const IMAGE_GT = [645000, 0.2, 0, 6865000, 0, -0.2] as const;

describe('surface grid on the image grid', () => {
  it('places a 1 m DTM starting 2 m west and 1 m north of the image', () => {
    expect(surfaceGridOn([...IMAGE_GT], [644998, 1, 0, 6865001, 0, -1])).toEqual({ x: -10, y: -5, stepX: 5, stepY: 5 });
  });

  it('needs the surface pixels around every image pixel centre', () => {
    // image pixel 0 has its centre at 0.5 image px = 0.1 surface px: between surface centres -1 and 0
    const grid = { x: 0, y: 0, stepX: 5, stepY: 5 };
    expect(surfaceRectFor({ x: 0, y: 0, width: 10, height: 3 }, grid)).toEqual({ x: -1, y: -1, width: 4, height: 3 });
    // on the image grid itself: exactly the window's own pixels, plus one (zero-weight) column and row
    expect(surfaceRectFor({ x: 4, y: 7, width: 2, height: 2 }, { x: 0, y: 0, stepX: 1, stepY: 1 })).toEqual({ x: 4, y: 7, width: 3, height: 3 });
  });
});

describe('bilinear sampling at image pixel centres', () => {
  it('reproduces a surface that is on the image grid exactly, even at the edge of its data', () => {
    const grid = { x: 0, y: 0, stepX: 1, stepY: 1 };
    const window = { x: 0, y: 0, width: 2, height: 2 };
    const rect = surfaceRectFor(window, grid); // 3x3, last row and column outside the data
    const src = Float32Array.from([1, 2, NaN, 3, 4, NaN, NaN, NaN, NaN]);
    expect(Array.from(bilinearAtPixelCentres(src, rect, grid, window))).toEqual([1, 2, 3, 4]);
  });

  it('interpolates a plane exactly between the centres of a coarser grid', () => {
    // surface value = 10 + 2u + 3v at surface pixel centre (u, v); steps of 5 image pixels
    const grid = { x: 0, y: 0, stepX: 5, stepY: 5 };
    const window = { x: 3, y: 4, width: 6, height: 5 };
    const rect = surfaceRectFor(window, grid);
    const src = new Float32Array(rect.width * rect.height);
    for (let r = 0; r < rect.height; r++) for (let c = 0; c < rect.width; c++) src[r * rect.width + c] = 10 + 2 * (rect.x + c) + 3 * (rect.y + r);
    const got = bilinearAtPixelCentres(src, rect, grid, window);
    for (let y = 0; y < window.height; y++) {
      for (let x = 0; x < window.width; x++) {
        const u = (window.x + x + 0.5) / 5 - 0.5;
        const v = (window.y + y + 0.5) / 5 - 0.5;
        expect(got[y * window.width + x]).toBeCloseTo(10 + 2 * u + 3 * v, 4);
      }
    }
  });

  it('gives no data where a neighbour with weight is no data, and nowhere else', () => {
    const grid = { x: 0, y: 0, stepX: 2, stepY: 2 };
    const window = { x: 0, y: 0, width: 4, height: 1 };
    // image centres 0.5,1.5,2.5,3.5 -> surface -0.25, 0.25, 0.75, 1.25: rect columns -1..2, rows -1..0
    const rect = surfaceRectFor(window, grid);
    expect(rect).toEqual({ x: -1, y: -1, width: 4, height: 2 });
    const src = Float32Array.from([NaN, NaN, NaN, NaN, NaN, 10, 20, NaN]);
    // rows: v = -0.25 uses rows -1 and 0 with weights 0.25/0.75: row -1 is no data, so all are NaN
    expect(Array.from(bilinearAtPixelCentres(src, rect, grid, window)).map(Number.isNaN)).toEqual([true, true, true, true]);
    // one row only (y steps of 1 on the image rows: v is exactly 0)
    const flat = { x: 0, y: 0, stepX: 2, stepY: 1 };
    const rect2 = surfaceRectFor(window, flat);
    expect(rect2).toEqual({ x: -1, y: 0, width: 4, height: 2 });
    const src2 = Float32Array.from([NaN, 10, 20, NaN, 0, 0, 0, 0]);
    expect(Array.from(bilinearAtPixelCentres(src2, rect2, flat, window))).toEqual([NaN, 12.5, 17.5, NaN]);
  });

  it('rejects a sample buffer of the wrong size', () => {
    expect(() => bilinearAtPixelCentres(new Float32Array(3), { x: 0, y: 0, width: 2, height: 2 }, { x: 0, y: 0, stepX: 1, stepY: 1 }, { x: 0, y: 0, width: 1, height: 1 })).toThrow(
      'surface samples: 3 values for a 2x2 rect',
    );
  });
});

describe('E from DSM and DTM', () => {
  it('is clip(round((DSM - DTM) * 5), 0, 255), invalid where either is no data', () => {
    const dsm = Float32Array.from([110, 110.3, 100, 200, 105.25, NaN, 50]);
    const dtm = Float32Array.from([100, 100, 101, 100, 100, 100, NaN]);
    const { e, valid } = elevationFromSurfaces(dsm, dtm);
    expect(Array.from(e)).toEqual([50, 52, 0, 255, 26, 0, 0]);
    expect(Array.from(valid)).toEqual([1, 1, 1, 1, 1, 0, 0]);
  });

  it('rounds half up', () => {
    const { e } = elevationFromSurfaces(Float32Array.from([0.5, 0.3]), Float32Array.from([0, 0]));
    // 0.5 m -> 2.5 steps -> 3; 0.3 m (0.30000001 in float32) -> 1.5000001 -> 2
    expect(Array.from(e)).toEqual([3, 2]);
  });

  it('treats the nodata value and non-finite values as no data', () => {
    expect(Array.from(markSurfaceNoData(Float32Array.from([-99999, 1.5, Infinity, 3]), -99999))).toEqual([NaN, 1.5, NaN, 3]);
    expect(Array.from(markSurfaceNoData(Float32Array.from([0.1, 2]), 0.1))).toEqual([NaN, 2]);
    expect(Array.from(markSurfaceNoData(Float32Array.from([0, 2]), undefined))).toEqual([0, 2]);
  });

  it('rejects inputs of different sizes', () => {
    expect(() => elevationFromSurfaces(new Float32Array(2), new Float32Array(3))).toThrow('DSM has 2 samples, DTM 3');
  });
});
