#!/usr/bin/python3
"""
The decode floor for bench:source-decode (issue 13): CPU per window for GDAL's own C reader
(Debian's python3-gdal) on the same prepared mosaics and the same windows, so that the
worker's reader (MosaicReader, in JavaScript on node's zlib) is compared with what a native
reader pays for the same bytes.

    /usr/bin/python3 bench/gdal-window-read.py bench/.cache/prepared-deflate-predictor-512 [--windows 50]

The folder is one that `npm run bench:source-decode` wrote (rgb/, irc/, elevation/: the 3x3
dalles of 1280 px converted with one setting). Each source is opened as a VRT of its dalles;
the windows are the first N of the 512 px plan with a 128 px overlap, row by row, placed as
planWindows places them (the last one of a row flush with the edge); each window reads R, G, B,
the IRC source's NIR (band 1) and E, with GDAL's block cache on (each tile decoded once, as the
worker's tile cache does). The files are opened before the clock starts.
"""
import argparse
import os
import time

from osgeo import gdal

PATCH = 512
OVERLAP = 128


def axis_starts(length):
    if length <= PATCH:
        return [0]
    starts = list(range(0, length - PATCH, PATCH - OVERLAP))
    starts.append(length - PATCH)
    return starts


def main():
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('folder')
    parser.add_argument('--windows', type=int, default=50)
    args = parser.parse_args()
    gdal.UseExceptions()
    sources = {}
    for role in ('rgb', 'irc', 'elevation'):
        folder = os.path.join(args.folder, role)
        files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
        sources[role] = gdal.BuildVRT('', files)
    width, height = sources['rgb'].RasterXSize, sources['rgb'].RasterYSize
    windows = [(x, y) for y in axis_starts(height) for x in axis_starts(width)][: args.windows]
    for source in sources.values():
        source.ReadRaster(0, 0, 1, 1)
    # an empty block cache, large enough to keep every tile the windows read
    gdal.SetCacheMax(0)
    gdal.SetCacheMax(512 * 1024 * 1024)
    started = time.process_time()
    for x, y in windows:
        sources['rgb'].ReadRaster(x, y, PATCH, PATCH, band_list=[1, 2, 3])
        sources['irc'].ReadRaster(x, y, PATCH, PATCH, band_list=[1])
        sources['elevation'].ReadRaster(x, y, PATCH, PATCH, band_list=[1])
    cpu = time.process_time() - started
    name = os.path.basename(os.path.normpath(args.folder))
    print(f'{name}: {len(windows)} windows of {PATCH} px, {cpu * 1000 / len(windows):.2f} ms CPU per window (GDAL {gdal.__version__})')


if __name__ == '__main__':
    main()
