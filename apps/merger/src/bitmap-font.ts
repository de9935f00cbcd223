/**
 * A 5x7 pixel font for the quicklook legend, drawn by hand after the classic character-LCD
 * glyphs. Embedded because the legend needs a few dozen glyphs, and the libraries that render
 * text in Node either need system fonts or a native build (canvas, @napi-rs/canvas), a TTF file
 * to load (pureimage), or bring a whole image toolkit (jimp). Lower case, digits and the
 * punctuation class names use; upper case is drawn in lower case, anything else as '?'.
 * Each glyph is 7 rows of 5 pixels, '#' inked.
 */
const GLYPHS: ReadonlyArray<readonly [string, string]> = [
  ['a', '.....|.....|.###.|....#|.####|#...#|.####'],
  ['b', '#....|#....|#.##.|##..#|#...#|#...#|####.'],
  ['c', '.....|.....|.###.|#....|#....|#...#|.###.'],
  ['d', '....#|....#|.##.#|#..##|#...#|#...#|.####'],
  ['e', '.....|.....|.###.|#...#|#####|#....|.###.'],
  ['f', '..##.|.#..#|.#...|###..|.#...|.#...|.#...'],
  ['g', '.....|.####|#...#|#...#|.####|....#|.###.'],
  ['h', '#....|#....|#.##.|##..#|#...#|#...#|#...#'],
  ['i', '..#..|.....|.##..|..#..|..#..|..#..|.###.'],
  ['j', '...#.|.....|..##.|...#.|...#.|#..#.|.##..'],
  ['k', '#....|#....|#..#.|#.#..|##...|#.#..|#..#.'],
  ['l', '.##..|..#..|..#..|..#..|..#..|..#..|.###.'],
  ['m', '.....|.....|##.#.|#.#.#|#.#.#|#...#|#...#'],
  ['n', '.....|.....|#.##.|##..#|#...#|#...#|#...#'],
  ['o', '.....|.....|.###.|#...#|#...#|#...#|.###.'],
  ['p', '.....|.....|####.|#...#|####.|#....|#....'],
  ['q', '.....|.....|.##.#|#..##|.####|....#|....#'],
  ['r', '.....|.....|#.##.|##..#|#....|#....|#....'],
  ['s', '.....|.....|.###.|#....|.###.|....#|####.'],
  ['t', '.#...|.#...|###..|.#...|.#...|.#..#|..##.'],
  ['u', '.....|.....|#...#|#...#|#...#|#..##|.##.#'],
  ['v', '.....|.....|#...#|#...#|#...#|.#.#.|..#..'],
  ['w', '.....|.....|#...#|#...#|#.#.#|#.#.#|.#.#.'],
  ['x', '.....|.....|#...#|.#.#.|..#..|.#.#.|#...#'],
  ['y', '.....|.....|#...#|#...#|.####|....#|.###.'],
  ['z', '.....|.....|#####|...#.|..#..|.#...|#####'],
  ['0', '.###.|#...#|#..##|#.#.#|##..#|#...#|.###.'],
  ['1', '..#..|.##..|..#..|..#..|..#..|..#..|.###.'],
  ['2', '.###.|#...#|....#|...#.|..#..|.#...|#####'],
  ['3', '#####|...#.|..#..|...#.|....#|#...#|.###.'],
  ['4', '...#.|..##.|.#.#.|#..#.|#####|...#.|...#.'],
  ['5', '#####|#....|####.|....#|....#|#...#|.###.'],
  ['6', '..##.|.#...|#....|####.|#...#|#...#|.###.'],
  ['7', '#####|....#|...#.|..#..|.#...|.#...|.#...'],
  ['8', '.###.|#...#|#...#|.###.|#...#|#...#|.###.'],
  ['9', '.###.|#...#|#...#|.####|....#|...#.|.##..'],
  ['(', '...#.|..#..|.#...|.#...|.#...|..#..|...#.'],
  [')', '.#...|..#..|...#.|...#.|...#.|..#..|.#...'],
  ['-', '.....|.....|.....|#####|.....|.....|.....'],
  ['.', '.....|.....|.....|.....|.....|.##..|.##..'],
  [',', '.....|.....|.....|.....|.##..|..#..|.#...'],
  [':', '.....|.##..|.##..|.....|.##..|.##..|.....'],
  ['/', '.....|....#|...#.|..#..|.#...|#....|.....'],
  ['_', '.....|.....|.....|.....|.....|.....|#####'],
  ['\'', '..#..|..#..|.#...|.....|.....|.....|.....'],
  ['?', '.###.|#...#|....#|...#.|..#..|.....|..#..'],
];

export const GLYPH_WIDTH = 5;
export const GLYPH_HEIGHT = 7;
/** Horizontal advance per character: the glyph and one blank column. */
export const GLYPH_ADVANCE = GLYPH_WIDTH + 1;

const FONT = new Map(GLYPHS.map(([ch, rows]) => [ch, rows.split('|').map((r) => [...r].map((p) => p === '#'))]));
const SPACE = Array.from({ length: GLYPH_HEIGHT }, () => new Array<boolean>(GLYPH_WIDTH).fill(false));

/** The inked pixels of one character, rows of booleans (space is blank). */
export function glyph(ch: string): boolean[][] {
  if (ch === ' ') return SPACE;
  return FONT.get(ch.toLowerCase()) ?? FONT.get('?')!;
}

/** Width in pixels of `text` at `scale` (no trailing blank column). */
export function textWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : (text.length * GLYPH_ADVANCE - 1) * scale;
}

/**
 * Inks `text` into an RGBA image (width px per row) with its top-left corner at (x, y), each
 * font pixel drawn as a scale x scale square; pixels outside the image are skipped.
 */
export function drawText(
  rgba: Uint8Array, width: number, height: number, text: string,
  x: number, y: number, scale: number, color: readonly [number, number, number],
): void {
  [...text].forEach((ch, i) => {
    glyph(ch).forEach((row, gy) => row.forEach((on, gx) => {
      if (!on) return;
      for (let dy = 0; dy < scale; dy++) {
        for (let dx = 0; dx < scale; dx++) {
          const px = x + (i * GLYPH_ADVANCE + gx) * scale + dx;
          const py = y + gy * scale + dy;
          if (px < 0 || py < 0 || px >= width || py >= height) continue;
          const at = (py * width + px) * 4;
          rgba[at] = color[0];
          rgba[at + 1] = color[1];
          rgba[at + 2] = color[2];
          rgba[at + 3] = 255;
        }
      }
    }));
  });
}
