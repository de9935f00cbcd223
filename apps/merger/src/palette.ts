import type { RunSpec } from '@fleet/jobs';

/** 256-entry colour map indexed by class id (0 and unused ids black), from the run's classes. */
export function classColorMap(classes: RunSpec['model']['classes']): Array<[number, number, number]> {
  const table: Array<[number, number, number]> = Array.from({ length: 256 }, () => [0, 0, 0]);
  for (const c of classes) {
    const hex = c.color.replace('#', '');
    table[c.id] = [parseInt(hex.slice(0, 2), 16), parseInt(hex.slice(2, 4), 16), parseInt(hex.slice(4, 6), 16)];
  }
  return table;
}
