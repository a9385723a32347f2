import { ProgressHeartbeat } from './mirror-report';

describe('ProgressHeartbeat', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('prints images done and bytes copied every interval until stopped', () => {
    const lines: string[] = [];
    const heartbeat = new ProgressHeartbeat(3, (line) => lines.push(line), 1000);
    heartbeat.bytesCopied(1_500_000);
    jest.advanceTimersByTime(1000);
    heartbeat.imageDone();
    heartbeat.bytesCopied(500_000);
    jest.advanceTimersByTime(1000);
    heartbeat.stop();
    jest.advanceTimersByTime(5000);
    expect(lines).toEqual(['... 0 of 3 images done, 1.4 MiB copied so far', '... 1 of 3 images done, 1.9 MiB copied so far']);
  });
});
