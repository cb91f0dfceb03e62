/**
 * Base of the errors whose message is written for the person running the product: it names
 * the problem (a bad field, a busy folder, an unreachable environment) and how to fix it. The
 * command line prints such a message as it is, on one line, and exits 1; any other error is
 * unexpected and said to be.
 */
export class UserFacingError extends Error {
  public constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UserFacingError';
  }
}
