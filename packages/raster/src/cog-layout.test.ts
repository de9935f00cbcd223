import { cogGhostArea, cogLevelSizes } from './cog-layout';

describe('cogLevelSizes', () => {
  it('halves, rounding up, until the image fits one tile', () => {
    expect(cogLevelSizes(25_000, 25_000, 512).map((l) => l.width)).toEqual([25_000, 12_500, 6250, 3125, 1563, 782, 391]);
    expect(cogLevelSizes(1000, 300, 256)).toEqual([
      { width: 1000, height: 300 }, { width: 500, height: 150 }, { width: 250, height: 75 },
    ]);
  });

  it('gives no overview to an image of one tile', () => {
    expect(cogLevelSizes(512, 512, 512)).toEqual([{ width: 512, height: 512 }]);
  });
});

describe('cogGhostArea', () => {
  it('declares its own size as GDAL reads it', () => {
    const ghost = cogGhostArea().toString('latin1');
    const match = /^GDAL_STRUCTURAL_METADATA_SIZE=(\d{6}) bytes\n/.exec(ghost);
    expect(match).not.toBeNull();
    expect(ghost.length - match![0].length).toBe(Number(match![1]));
    expect(ghost).toContain('LAYOUT=IFDS_BEFORE_DATA\n');
    expect(ghost).toContain('BLOCK_LEADER=SIZE_AS_UINT4\n');
  });
});
