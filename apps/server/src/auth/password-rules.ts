import { AppError } from '../errors.ts';

/** The commonly used passwords (zxcvbn-ts's list of ~49,000, shipped with the product), lowercased. */
let common: Promise<Set<string>> | null = null;

async function commonPasswords(): Promise<Set<string>> {
  // Loaded on first use: the list is only needed when someone sets a password.
  common ??= import('@zxcvbn-ts/language-common').then(
    ({ dictionary }) => new Set(dictionary['passwords-common'].map((word) => word.toLowerCase())),
  );
  return common;
}

/**
 * Refuses a password that is among the most commonly used ones, or that is the person's email
 * or its name part, with a 400 naming `field`. Length is the schema's job (10–128).
 */
export async function assertPasswordAllowed(
  password: string,
  field: string,
  context: { email?: string } = {},
): Promise<void> {
  const lowered = password.toLowerCase();
  const email = context.email?.toLowerCase();
  const guessable =
    (await commonPasswords()).has(lowered) ||
    (email !== undefined && (lowered === email || lowered === email.split('@')[0]));
  if (guessable)
    throw new AppError(
      'bad_request',
      `${field}: this password is among the most commonly used ones (or is your email); choose another — a few unrelated words make a strong one`,
      [{ path: `body.${field}`, message: 'is a commonly used password' }],
    );
}
