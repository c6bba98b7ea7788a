/** A queue message that cannot be read or does not match its schema (retried, then moved to poison). */
export class InvalidMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMessageError';
  }
}
