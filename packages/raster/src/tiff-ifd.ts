/** TIFF field types this package writes (TIFF 6.0 and BigTIFF numbering). */
export const TiffType = {
  BYTE: 1,
  ASCII: 2,
  SHORT: 3,
  LONG: 4,
  DOUBLE: 12,
  LONG8: 16,
} as const;
export type TiffType = (typeof TiffType)[keyof typeof TiffType];

const TYPE_SIZE: Record<TiffType, number> = { 1: 1, 2: 1, 3: 2, 4: 4, 12: 8, 16: 8 };

export interface IfdEntry {
  tag: number;
  type: TiffType;
  /** Numbers for numeric types; a string for ASCII (written as UTF-8 plus the NUL terminator). */
  values: ArrayLike<number> | string;
}

/**
 * Serialises one little-endian image file directory, with the values that do not fit in
 * an entry placed right after it, as the bytes to write at `ifdOffset` (which must be even).
 * `nextIfdOffset` chains the next image (a COG's overviews); 0, the default, ends the chain.
 */
export function encodeIfd(entries: readonly IfdEntry[], ifdOffset: number, bigTiff: boolean, nextIfdOffset = 0): Buffer {
  if (ifdOffset % 2 !== 0) throw new RangeError(`IFD offset ${ifdOffset} is not word-aligned`);
  const sorted = [...entries].sort((a, b) => a.tag - b.tag);
  const countSize = bigTiff ? 8 : 2;
  const entrySize = bigTiff ? 20 : 12;
  const pointerSize = bigTiff ? 8 : 4;
  const ifdSize = countSize + sorted.length * entrySize + pointerSize;

  const payloads = sorted.map((entry) => encodeValues(entry));
  // Out-of-line values follow the IFD, each on an 8-byte boundary (TIFF asks for word
  // alignment; 8 keeps doubles naturally aligned for readers that map the file).
  let overflowSize = 0;
  const overflowOffsets = payloads.map((p) => {
    if (p.bytes.length <= pointerSize) return -1;
    overflowSize = align8(overflowSize);
    const at = overflowSize;
    overflowSize += p.bytes.length;
    return at;
  });
  const overflowStart = align8(ifdOffset + ifdSize) - ifdOffset;
  const out = Buffer.alloc(overflowStart + overflowSize);

  let pos = 0;
  if (bigTiff) out.writeBigUInt64LE(BigInt(sorted.length), pos);
  else out.writeUInt16LE(sorted.length, pos);
  pos += countSize;
  sorted.forEach((entry, i) => {
    const payload = payloads[i]!;
    out.writeUInt16LE(entry.tag, pos);
    out.writeUInt16LE(entry.type, pos + 2);
    if (bigTiff) out.writeBigUInt64LE(BigInt(payload.count), pos + 4);
    else out.writeUInt32LE(payload.count, pos + 4);
    const valuePos = pos + (bigTiff ? 12 : 8);
    const overflowAt = overflowOffsets[i]!;
    if (overflowAt < 0) {
      payload.bytes.copy(out, valuePos); // left-justified in the value field, per the spec
    } else {
      const absolute = ifdOffset + overflowStart + overflowAt;
      if (bigTiff) out.writeBigUInt64LE(BigInt(absolute), valuePos);
      else writeLong(out, absolute, valuePos);
      payload.bytes.copy(out, overflowStart + overflowAt);
    }
    pos += entrySize;
  });
  if (bigTiff) out.writeBigUInt64LE(BigInt(nextIfdOffset), pos);
  else writeLong(out, nextIfdOffset, pos);
  return out;
}

function encodeValues(entry: IfdEntry): { count: number; bytes: Buffer } {
  if (typeof entry.values === 'string') {
    if (entry.type !== TiffType.ASCII) throw new TypeError(`tag ${entry.tag}: string value needs ASCII type`);
    const bytes = Buffer.from(`${entry.values}\0`, 'utf8');
    return { count: bytes.length, bytes };
  }
  const values = entry.values;
  const size = TYPE_SIZE[entry.type];
  const bytes = Buffer.alloc(values.length * size);
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    const at = i * size;
    switch (entry.type) {
      case TiffType.BYTE:
        bytes.writeUInt8(v, at);
        break;
      case TiffType.SHORT:
        bytes.writeUInt16LE(v, at);
        break;
      case TiffType.LONG:
        writeLong(bytes, v, at);
        break;
      case TiffType.DOUBLE:
        bytes.writeDoubleLE(v, at);
        break;
      case TiffType.LONG8:
        bytes.writeBigUInt64LE(BigInt(v), at);
        break;
      default:
        throw new TypeError(`tag ${entry.tag}: type ${entry.type} needs a string value`);
    }
  }
  return { count: values.length, bytes };
}

function writeLong(buf: Buffer, value: number, at: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${value} does not fit a TIFF LONG (classic TIFF is limited to 4 GiB; use BigTIFF)`);
  }
  buf.writeUInt32LE(value, at);
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8;
}

/** The 8-byte classic or 16-byte BigTIFF little-endian header, with the first-IFD offset still 0. */
export function encodeHeader(bigTiff: boolean): Buffer {
  if (!bigTiff) {
    const h = Buffer.alloc(8);
    h.write('II', 0, 'latin1');
    h.writeUInt16LE(42, 2);
    return h;
  }
  const h = Buffer.alloc(16);
  h.write('II', 0, 'latin1');
  h.writeUInt16LE(43, 2);
  h.writeUInt16LE(8, 4); // bytesize of offsets
  h.writeUInt16LE(0, 6);
  return h;
}

/** Bytes that patch the header's first-IFD offset, and where they go. */
export function encodeFirstIfdPointer(ifdOffset: number, bigTiff: boolean): { at: number; bytes: Buffer } {
  if (bigTiff) {
    const bytes = Buffer.alloc(8);
    bytes.writeBigUInt64LE(BigInt(ifdOffset));
    return { at: 8, bytes };
  }
  const bytes = Buffer.alloc(4);
  writeLong(bytes, ifdOffset, 0);
  return { at: 4, bytes };
}
