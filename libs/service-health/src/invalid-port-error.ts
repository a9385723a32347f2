/** PORT was set to something a server cannot listen on. */
export class InvalidPortError extends Error {
  constructor(readonly value: string) {
    super(`PORT must be a whole number from 0 to 65535, got "${value}": fix PORT or unset it to use the default`);
    this.name = 'InvalidPortError';
  }
}
