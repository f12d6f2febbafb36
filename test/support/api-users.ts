// Signs a user in through the real API, the way a person would: invitation link → set a
// password → personal API token. Returns what API tests need.
import type { RunningServer } from '../../src/runtime/server.ts';
import { createTenant } from '../../src/accounts/tenant.repository.ts';
import type { Role } from '../../src/accounts/account.model.ts';

export interface TestUser {
  id: string;
  tenantId: string;
  email: string;
  password: string;
  /** Personal API token, for `Authorization: Bearer`. */
  token: string;
}

export async function createTestUser(server: RunningServer, input: { email: string; role?: Role; tenantId?: string; tenantName?: string }): Promise<TestUser> {
  const accounts = server.runtime.accounts;
  const tenantId = input.tenantId ?? (await createTenant(server.runtime.db, { name: input.tenantName ?? `Org of ${input.email}`, region: 'uk' })).id;
  const invited = await accounts.users.create({ type: 'operator', id: 'test' }, { tenantId, email: input.email, displayName: input.email.split('@')[0]!, role: input.role ?? 'author' });
  const linkToken = new URL(invited.signInLink.url).hash.replace(/^#(token=)?/, '');
  const redeemed = await fetch(`${server.url}/api/v1/auth/sign-in-links/redeem`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ token: linkToken }) });
  if (!redeemed.ok) throw new Error(`redeem failed: ${redeemed.status} ${await redeemed.text()}`);
  const cookie = redeemed.headers.get('set-cookie')!.split(';')[0]!;
  const { csrfToken } = (await redeemed.json()) as { csrfToken: string };
  const password = `correct horse ${input.email} battery`;
  const set = await fetch(`${server.url}/api/v1/auth/password`, { method: 'POST', headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken }, body: JSON.stringify({ newPassword: password }) });
  if (!set.ok) throw new Error(`set password failed: ${set.status} ${await set.text()}`);
  const tokenRes = await fetch(`${server.url}/api/v1/auth/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: input.email, password, name: 'tests' }) });
  if (!tokenRes.ok) throw new Error(`token failed: ${tokenRes.status} ${await tokenRes.text()}`);
  const { token } = (await tokenRes.json()) as { token: string };
  return { id: invited.user.id, tenantId, email: input.email, password, token };
}
