import type { Services } from './app.ts';

/**
 * First run: with STUDIO_ADMIN_EMAIL/PASSWORD set, create that admin; otherwise return the
 * one-time setup link for a person to open. Returns null when users already exist.
 */
export async function prepareFirstRun(
  services: Services,
): Promise<{ setupUrl: string } | { adminCreated: string } | null> {
  const { users, config, audit } = services;
  if ((await users.count()) > 0) return null;
  if (config.admin) {
    // Replicas starting together race to make the same admin: the one that loses finds it made.
    const user = await users
      .create({
        email: config.admin.email,
        name: 'Admin',
        role: 'admin',
        password: config.admin.password,
      })
      .catch(async (error: unknown) => {
        if ((await users.count()) > 0) return null;
        throw error;
      });
    if (!user) return null;
    await audit.record({
      actorId: null,
      action: 'setup.admin_created',
      targetType: 'user',
      targetId: user.id,
      data: { headless: true },
    });
    return { adminCreated: user.email };
  }
  const url = new URL('/setup', config.publicUrl);
  url.searchParams.set('token', services.setupToken);
  return { setupUrl: url.toString() };
}
