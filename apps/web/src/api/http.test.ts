import { describe, expect, it } from 'vitest';
import { ApiError, fieldErrors, hasCode } from './http.ts';

describe('fieldErrors', () => {
  it('keys bad_request issues by the last segment of their path', () => {
    const error = new ApiError('bad_request', 'invalid', 400, [
      { path: 'body.password', message: 'Too short' },
      { path: 'body.email', message: 'Invalid email' },
      { path: 'body.email', message: 'second issue is ignored' },
    ]);
    expect(fieldErrors(error)).toEqual({ password: 'Too short', email: 'Invalid email' });
  });

  it('is empty for other codes and malformed detail', () => {
    expect(
      fieldErrors(new ApiError('forbidden', 'no', 403, [{ path: 'x', message: 'y' }])),
    ).toEqual({});
    expect(fieldErrors(new ApiError('bad_request', 'no', 400, 'not a list'))).toEqual({});
    expect(fieldErrors(new Error('plain'))).toEqual({});
  });
});

describe('ApiError', () => {
  it('is matched by code and reads as a sentence', () => {
    const error = new ApiError('invalid_credentials', 'wrong email or password', 401);
    expect(hasCode(error, 'invalid_credentials', 'user_disabled')).toBe(true);
    expect(hasCode(error, 'unauthenticated')).toBe(false);
    expect(error.message).toBe('Wrong email or password');
  });
});
