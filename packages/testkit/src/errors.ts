export type TestkitErrorCode =
  | 'TESTKIT_NOT_IN_VITEST'
  | 'TESTKIT_SERVICE_EXITED'
  | 'TESTKIT_SERVICE_TIMEOUT'
  | 'TESTKIT_NO_SOURCE'
  | 'TESTKIT_BAD_ENV'
  | 'TESTKIT_PYTHON_VENV';

/** Every failure of the test kit carries a stable code and says what to do next. */
export class TestkitError extends Error {
  override readonly name = 'TestkitError';
  constructor(
    readonly code: TestkitErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
