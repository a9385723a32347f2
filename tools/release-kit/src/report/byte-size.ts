const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

/** Sizes as people read them in a report line: 512 B, 1.5 KiB, 140.2 MiB. */
export function formatByteSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}
