import { formatByteSize } from './byte-size';

it('formats sizes in binary units', () => {
  expect(formatByteSize(0)).toBe('0 B');
  expect(formatByteSize(1023)).toBe('1023 B');
  expect(formatByteSize(1536)).toBe('1.5 KiB');
  expect(formatByteSize(147_000_000)).toBe('140.2 MiB');
  expect(formatByteSize(2 ** 30)).toBe('1.0 GiB');
});
