import { z } from 'zod';

/** C0 control characters and DEL: never part of a name or a title. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * A name or a title: one line of `min`–`max` characters after trimming, without control
 * characters (a NUL cannot even be stored; an escape sequence would paint a terminal).
 */
export function oneLine(min: number, max: number) {
  return z
    .string()
    .trim()
    .min(min, min === 1 ? 'must not be empty' : `must be at least ${min} characters`)
    .max(max, `must be at most ${max} characters`)
    .refine((value) => !CONTROL.test(value), 'must be one line without control characters');
}
