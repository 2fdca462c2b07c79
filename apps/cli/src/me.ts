// `GET /api/me` checked without zod. The protocol's meSchema is the contract, but importing it
// loads zod and every schema the protocol defines, which was most of what `studio whoami` took
// to start; whoami needs only this one small shape. me.test.ts checks that this parser accepts,
// rejects and returns exactly what meSchema does.
import type { Me, Role } from '@studio/protocol';
import type { Schema } from './api-client.ts';

const ROLES: readonly Role[] = ['admin', 'member'];
const VIAS: readonly Me['via'][] = ['session', 'token'];

/** The answer of `GET /api/me`, as `meSchema.parse` returns it (unknown keys dropped). */
export const meParser: Schema<Me> = {
  parse(value: unknown): Me {
    const me = record(value, 'me');
    const user = record(me.user, 'me.user');
    return {
      user: {
        id: string(user.id, 'me.user.id'),
        email: string(user.email, 'me.user.email'),
        name: string(user.name, 'me.user.name'),
        role: oneOf(user.role, ROLES, 'me.user.role'),
        disabled: boolean(user.disabled, 'me.user.disabled'),
        createdAt: string(user.createdAt, 'me.user.createdAt'),
      },
      via: oneOf(me.via, VIAS, 'me.via'),
    };
  },
};

function record(value: unknown, path: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new TypeError(`${path}: expected an object`);
  }
  return value as Record<string, unknown>;
}

function string(value: unknown, path: string): string {
  if (typeof value !== 'string') throw new TypeError(`${path}: expected a string`);
  return value;
}

function boolean(value: unknown, path: string): boolean {
  if (typeof value !== 'boolean') throw new TypeError(`${path}: expected a boolean`);
  return value;
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], path: string): T {
  if (!allowed.includes(value as T)) {
    throw new TypeError(`${path}: expected one of ${allowed.join(', ')}`);
  }
  return value as T;
}
