// End to end: data residency across several regions served by one installation. Tenants in
// uk, eea and us send messages with attachments through the real HTTP server; external
// recipients reply, choosing a region where the sender's organisation allows it. Then the
// stores themselves are inspected: every sealed object's blob is in its region's store and in no
// other, and every KEK is wrapped by its region's root key only. Three fs directories, and one
// case with s3rver buckets. PGlite always, PostgreSQL too when TEST_DATABASE_URL is set.
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTenant } from '../../src/accounts/tenant.repository.ts';
import { LocalKeyProvider } from '../../src/crypto/local-key-provider.ts';
import { loadConfig } from '../../src/config/config.ts';
import { startServer, type RunningServer } from '../../src/runtime/server.ts';
import { createLogger } from '../../src/shared/logger.ts';
import { isAppError } from '../../src/shared/app-error.ts';
import { REGIONS, type Region } from '../../src/shared/regions.ts';
import { startS3Server, type TestS3Server } from '../../src/storage/blob/blob-test-support.ts';
import { createTestUser, type TestUser } from '../support/api-users.ts';
import { apiClient, e2eTargets, freePort, linkIn, recipientClient, startE2eServer, type E2eServer } from '../support/e2e.ts';

interface ObjectRow {
  id: string;
  tenant_id: string;
  region: Region;
  blob_key: string;
  shredded_at: Date | null;
}

/** Every blob file under an fs store's root (temporary files excluded). */
async function fsBlobs(root: string): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await walk(path.join(dir, entry.name));
      else if (!entry.name.startsWith('.')) found.push(entry.name);
    }
  };
  await walk(root);
  return found.sort();
}

/** The root key ids in a local root key file. */
async function rootKeyIds(file: string): Promise<string[]> {
  return Object.keys((JSON.parse(await readFile(file, 'utf8')) as { keys: Record<string, string> }).keys);
}

/** A sender, the message they sent to an external recipient, and that recipient's session. */
function residencyFlows(env: () => E2eServer) {
  const api = apiClient(() => env().server);
  const { mailTo, verify, decrypt } = recipientClient(() => env());

  const upload = async (path: string, headers: Record<string, string>, bytes: Buffer) => {
    const res = await fetch(`${env().server.url}${path}`, { method: 'POST', headers: { ...headers, 'content-type': 'application/octet-stream', 'content-length': String(bytes.length) }, body: new Uint8Array(bytes) });
    return { status: res.status, body: (await res.json()) as { uploadId: string; size: number; region: Region; error?: { code: string } } };
  };

  /** Sends a message with one attachment from `user` to `to`, and opens it as the recipient. */
  async function sendAndOpen(user: TestUser, to: string, subject: string): Promise<{ messageId: string; session: string }> {
    const file = await upload('/api/v1/uploads', { authorization: `Bearer ${user.token}` }, randomBytes(70_000));
    expect(file.status).toBe(201);
    const sent = await api(user, 'POST', '/api/v1/messages', { to: [to], subject, text: `Body of ${subject}`, attachments: [{ uploadId: file.body.uploadId, filename: 'data.bin', contentType: 'application/octet-stream' }] });
    expect(sent.status).toBe(201);
    const note = await mailTo(to, 0, (m) => linkIn(m.text) !== undefined && m.headers.subject!.includes(subject));
    return { messageId: sent.body.id as string, session: await verify(to, linkIn(note.text)!) };
  }

  /** Replies as a recipient with one attachment stored in `region` (or the default). */
  async function replyWithAttachment(session: string, text: string, region?: Region) {
    const query = region ? `?region=${region}` : '';
    const file = await upload(`/api/v1/access/uploads${query}`, { 'x-recipient-session': session }, randomBytes(40_000));
    expect(file.status).toBe(201);
    return api(null, 'POST', '/api/v1/access/reply', { text, replyAll: false, ...(region ? { region } : {}), attachments: [{ uploadId: file.body.uploadId, filename: 'answer.bin', contentType: 'application/octet-stream' }] }, { 'x-recipient-session': session });
  }

  return { api, upload, sendAndOpen, replyWithAttachment, mailTo, verify, decrypt };
}

/** Creates a tenant in `region` with an administrator and an author. */
async function tenantIn(server: RunningServer, region: Region, label: string): Promise<{ tenantId: string; admin: TestUser; author: TestUser }> {
  const tenant = await createTenant(server.runtime.db, { name: `Org ${label} ${region}`, region });
  const admin = await createTestUser(server, { email: `admin-${label}-${region}@${region}.example`, role: 'administrator', tenantId: tenant.id });
  const author = await createTestUser(server, { email: `author-${label}-${region}@${region}.example`, tenantId: tenant.id });
  return { tenantId: tenant.id, admin, author };
}

/** Asserts every KEK is wrapped by a root key of its own region's key file, and of no other region's. */
async function expectKeksWrappedByTheirRegion(server: RunningServer, tenantIds: string[]): Promise<number> {
  const files = Object.fromEntries(server.runtime.config.regions.map((r) => [r.region, r.keyProvider.file])) as Record<Region, string>;
  const ids = Object.fromEntries(await Promise.all(Object.entries(files).map(async ([r, f]) => [r, await rootKeyIds(f)]))) as Record<Region, string[]>;
  const { rows } = await server.runtime.db.query<{ region: Region; root_key_id: string }>(`SELECT region, root_key_id FROM key_encryption_keys WHERE tenant_id = ANY($1::uuid[]) AND state <> 'destroyed'`, [tenantIds]);
  for (const kek of rows) {
    expect(ids[kek.region]).toContain(kek.root_key_id);
    for (const other of Object.keys(ids) as Region[]) if (other !== kek.region) expect(ids[other]).not.toContain(kek.root_key_id);
  }
  // Each region's key file is its own: no root key appears in two files.
  const all = Object.values(ids).flat();
  expect(new Set(all).size).toBe(all.length);
  return rows.length;
}

for (const target of e2eTargets()) {
  describe(`data residency across three fs stores [${target}]`, () => {
    let env: E2eServer;
    let server: RunningServer;
    const flows = residencyFlows(() => env);
    const { api } = flows;
    let uk: Awaited<ReturnType<typeof tenantIn>>;
    let eea: Awaited<ReturnType<typeof tenantIn>>;
    let us: Awaited<ReturnType<typeof tenantIn>>;

    const objects = async (): Promise<ObjectRow[]> => (await server.runtime.db.query<ObjectRow>(`SELECT id, tenant_id, region, blob_key, shredded_at FROM sealed_objects WHERE tenant_id = ANY($1::uuid[]) ORDER BY created_at`, [[uk.tenantId, eea.tenantId, us.tenantId]])).rows;
    const dirOf = (region: Region) => {
      const store = server.runtime.config.regions.find((r) => r.region === region)!.blobStore;
      if (store.kind !== 'fs') throw new Error('fs store expected');
      return store.dir;
    };

    /** Every live object's blob is in its region's directory only; every stored blob is a live object of that region. */
    async function expectNothingCrosses(): Promise<Record<Region, number>> {
      const rows = await objects();
      const counts = { uk: 0, eea: 0, us: 0 };
      for (const region of REGIONS) {
        const stored = await fsBlobs(dirOf(region));
        const expected = rows.filter((o) => o.region === region && !o.shredded_at).map((o) => o.blob_key).sort();
        expect(stored, `blobs in the ${region} store`).toEqual(expected);
        counts[region] = stored.length;
      }
      return counts;
    }

    beforeAll(async () => {
      env = await startE2eServer(target, 'residency', { REGIONS: 'uk,eea,us', REGION: 'uk', SEGMENT_SIZE: '65536' });
      server = env.server;
      uk = await tenantIn(server, 'uk', target);
      eea = await tenantIn(server, 'eea', target);
      us = await tenantIn(server, 'us', target);
    });

    afterAll(async () => {
      await env?.close();
    });

    it('does give each region its own directory and root key file, and checks each in /readyz', async () => {
      const dirs = REGIONS.map(dirOf);
      expect(new Set(dirs).size).toBe(3);
      expect(dirs[0]).toBe(path.join(env.dataDir, 'blobs'));
      expect(dirs[1]).toBe(path.join(env.dataDir, 'regions', 'eea', 'blobs'));
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { checks: Record<string, unknown> }).checks).toEqual({
        database: { ok: true },
        blob_store_uk: { ok: true },
        blob_store_eea: { ok: true },
        blob_store_us: { ok: true },
        key_provider_uk: { ok: true },
        key_provider_eea: { ok: true },
        key_provider_us: { ok: true },
      });
    });

    it("does store each tenant's messages and replies in its region, or where the recipient chose as its tenant allows, and nothing crosses", async () => {
      // Administrators decide: the uk organisation lets recipients keep replies in the EEA.
      expect((await api(uk.author, 'PUT', '/api/v1/tenant/reply-regions', { allowed: ['eea'] })).status).toBe(403);
      const refused = await api(uk.admin, 'PUT', '/api/v1/tenant/reply-regions', { allowed: ['eea', 'mars'] });
      expect(refused).toMatchObject({ status: 400, body: { error: { code: 'invalid_reply_regions' } } });
      const set = await api(uk.admin, 'PUT', '/api/v1/tenant/reply-regions', { allowed: ['uk', 'eea'] });
      expect(set).toMatchObject({ status: 200, body: { default: 'uk', allowed: ['eea'], served: ['uk', 'eea', 'us'] } });
      expect((await api(uk.admin, 'GET', '/api/v1/tenant')).body.replyResidency).toEqual({ default: 'uk', allowed: ['eea'], served: ['uk', 'eea', 'us'] });

      const toUk = await flows.sendAndOpen(uk.author, `pat-${target}@client.example`, 'UK matter');
      const toEea = await flows.sendAndOpen(eea.author, `kim-${target}@client.example`, 'EEA matter');
      const toUs = await flows.sendAndOpen(us.author, `lee-${target}@client.example`, 'US matter');

      // What each recipient is offered.
      expect((await api(null, 'GET', '/api/v1/access/reply-regions', undefined, { 'x-recipient-session': toUk.session })).body).toEqual({ default: 'uk', choices: ['uk', 'eea'] });
      expect((await api(null, 'GET', '/api/v1/access/reply-regions', undefined, { 'x-recipient-session': toEea.session })).body).toEqual({ default: 'eea', choices: ['eea'] });

      // The uk recipient chooses the EEA for their reply: envelope and attachment go there.
      const chosen = await flows.replyWithAttachment(toUk.session, 'Kept in the EEA.', 'eea');
      expect(chosen).toMatchObject({ status: 201, body: { region: 'eea', attachmentCount: 1 } });
      // Without a choice the reply stays in the home region.
      const home = await flows.replyWithAttachment(toUk.session, 'Kept in the UK.');
      expect(home).toMatchObject({ status: 201, body: { region: 'uk' } });
      // A region the organisation does not allow is refused, naming the choices; nothing is stored.
      const before = (await objects()).length;
      const notAllowed = await api(null, 'POST', '/api/v1/access/reply', { text: 'To the US?', replyAll: false, region: 'us' }, { 'x-recipient-session': toUk.session });
      expect(notAllowed).toMatchObject({ status: 400, body: { error: { code: 'reply_region_not_allowed' } } });
      expect(notAllowed.body.error.message).toMatch(/uk or eea/);
      const upNotAllowed = await flows.upload('/api/v1/access/uploads?region=us', { 'x-recipient-session': toUk.session }, randomBytes(10));
      expect(upNotAllowed).toMatchObject({ status: 400, body: { error: { code: 'reply_region_not_allowed' } } });
      expect((await api(null, 'POST', '/api/v1/access/reply', { text: 'x', replyAll: false, region: 'moon' }, { 'x-recipient-session': toUk.session })).body.error.code).toBe('invalid_region');
      // An attachment stored in one region cannot travel with a reply stored in another.
      const ukFile = await flows.upload('/api/v1/access/uploads', { 'x-recipient-session': toUk.session }, randomBytes(1000));
      const mismatch = await api(null, 'POST', '/api/v1/access/reply', { text: 'Mixed.', replyAll: false, region: 'eea', attachments: [{ uploadId: ukFile.body.uploadId, filename: 'a.bin', contentType: 'application/octet-stream' }] }, { 'x-recipient-session': toUk.session });
      expect(mismatch).toMatchObject({ status: 400, body: { error: { code: 'attachment_region_mismatch' } } });
      expect((await objects()).length).toBe(before + 1); // only the (still pending) uk upload
      expect((await api(null, 'DELETE', `/api/v1/access/uploads/${ukFile.body.uploadId}`, undefined, { 'x-recipient-session': toUk.session })).status).toBe(204);

      // The eea organisation allows no choice: its recipient's reply stays in the EEA.
      expect((await api(null, 'POST', '/api/v1/access/reply', { text: 'To the UK?', replyAll: false, region: 'uk' }, { 'x-recipient-session': toEea.session })).body.error.code).toBe('reply_region_not_allowed');
      expect(await flows.replyWithAttachment(toEea.session, 'EEA reply.')).toMatchObject({ status: 201, body: { region: 'eea' } });
      expect(await flows.replyWithAttachment(toUs.session, 'US reply.')).toMatchObject({ status: 201, body: { region: 'us' } });

      // The rows say where each object is.
      const rows = await objects();
      const regionsOf = (tenantId: string) => [...new Set(rows.filter((o) => o.tenant_id === tenantId && !o.shredded_at).map((o) => o.region))].sort();
      expect(regionsOf(uk.tenantId)).toEqual(['eea', 'uk']);
      expect(regionsOf(eea.tenantId)).toEqual(['eea']);
      expect(regionsOf(us.tenantId)).toEqual(['us']);
      const { rows: reply } = await server.runtime.db.query<{ region: Region }>(`SELECT o.region FROM messages m JOIN sealed_objects o ON o.id = m.envelope_object_id WHERE m.id = $1`, [chosen.body.id]);
      expect(reply).toEqual([{ region: 'eea' }]);

      // The stores themselves: every blob in its region's directory, none anywhere else.
      const counts = await expectNothingCrosses();
      expect(counts).toEqual({ uk: 2 + 2, eea: 2 + 2 + 2, us: 2 + 2 });
      // And every KEK is wrapped by its own region's root key; the uk tenant has one KEK per region it stores in.
      expect(await expectKeksWrappedByTheirRegion(server, [uk.tenantId, eea.tenantId, us.tenantId])).toBe(4);
      const ukKeks = await server.runtime.keys.listKeks(uk.tenantId);
      expect(ukKeks.map((k) => k.region).sort()).toEqual(['eea', 'uk']);

      // The sender reads both replies, the one stored in the EEA like the one in the UK.
      const isReply = (m: { headers: Record<string, string | undefined>; text: string }) => !!m.headers.subject?.includes('Re: UK matter') && linkIn(m.text) !== undefined;
      const first = await flows.mailTo(uk.author.email, 0, isReply);
      const second = await flows.mailTo(uk.author.email, 0, (m) => isReply(m) && linkIn(m.text) !== linkIn(first.text));
      const texts = [];
      for (const note of [first, second]) {
        const opened = await flows.decrypt(await flows.verify(uk.author.email, linkIn(note.text)!));
        expect(opened.files![0]!.bytes.length).toBe(40_000);
        texts.push(opened.envelope!.text);
      }
      expect(texts.sort()).toEqual(['Kept in the EEA.', 'Kept in the UK.']);
    });

    it("does refuse to unwrap a region's KEK with another region's root key", async () => {
      const { rows } = await server.runtime.db.query<{ id: string; root_key_id: string; wrapped_key: Uint8Array }>(`SELECT id, root_key_id, wrapped_key FROM key_encryption_keys WHERE tenant_id = $1 AND region = 'eea' AND state = 'active'`, [uk.tenantId]);
      const kek = rows[0]!;
      const ukProvider = await LocalKeyProvider.open(server.runtime.config.regions[0]!.keyProvider.file, { create: false });
      await expect(ukProvider.unwrap({ rootKeyId: kek.root_key_id, wrapped: kek.wrapped_key }, new Uint8Array(0))).rejects.toSatisfy((e) => isAppError(e, 'root_key_unknown'));
    });

    it('does rotate KEKs and root keys per region and shred per region, still with nothing crossing', async () => {
      const rt = server.runtime;
      // A KEK rotation in the EEA re-wraps the uk tenant's EEA data keys under its new EEA KEK.
      const rotated = await rt.keys.rotateKek(uk.tenantId, 'eea');
      expect(rotated).toMatchObject({ region: 'eea', newVersion: 2, rewrapped: 2 });
      // A root rotation in the EEA moves only EEA KEKs to the new EEA root key.
      const ukRootBefore = (await rt.db.query<{ root_key_id: string }>(`SELECT root_key_id FROM key_encryption_keys WHERE tenant_id = $1 AND region = 'uk'`, [uk.tenantId])).rows;
      const newRoot = await (rt.keyProviders.get('eea') as LocalKeyProvider).rotate();
      let moved = 0;
      for (const t of [uk.tenantId, eea.tenantId, us.tenantId]) moved += await rt.keys.rewrapKeksUnderActiveRoot(t, { region: 'eea' });
      expect(moved).toBe(3); // uk tenant's retired v1 and active v2, and the eea tenant's KEK
      expect((await rt.db.query<{ root_key_id: string }>(`SELECT root_key_id FROM key_encryption_keys WHERE region = 'eea' AND tenant_id = ANY($1::uuid[])`, [[uk.tenantId, eea.tenantId]])).rows.every((r) => r.root_key_id === newRoot)).toBe(true);
      expect((await rt.db.query<{ root_key_id: string }>(`SELECT root_key_id FROM key_encryption_keys WHERE tenant_id = $1 AND region = 'uk'`, [uk.tenantId])).rows).toEqual(ukRootBefore);
      expect(await expectKeksWrappedByTheirRegion(server, [uk.tenantId, eea.tenantId, us.tenantId])).toBe(5);

      // Every live object still opens after the rotations.
      const live = (await objects()).filter((o) => !o.shredded_at);
      for (const o of live) expect((await rt.content.openBytes(o.tenant_id, o.id)).length).toBeGreaterThan(0);

      // Shredding an EEA object deletes its blob from the EEA store; the other stores are untouched.
      const victim = live.find((o) => o.tenant_id === uk.tenantId && o.region === 'eea')!;
      const ukBefore = await fsBlobs(dirOf('uk'));
      await rt.content.shred(victim.tenant_id, victim.id);
      expect(await fsBlobs(dirOf('eea'))).not.toContain(victim.blob_key);
      expect(await fsBlobs(dirOf('uk'))).toEqual(ukBefore);
      await expect(rt.content.openBytes(victim.tenant_id, victim.id)).rejects.toSatisfy((e) => isAppError(e, 'content_shredded'));
      await expectNothingCrosses();
    });
  });

  describe(`data residency with S3 buckets per region [${target}]`, () => {
    let s3: TestS3Server;
    let env: E2eServer;
    let server: RunningServer;
    const flows = residencyFlows(() => env);

    beforeAll(async () => {
      s3 = await startS3Server({ buckets: ['residency-uk', 'residency-us'] });
      const o = s3.options();
      env = await startE2eServer(target, 'residency-s3', {
        REGIONS: 'uk,us',
        BLOB_STORE: 's3',
        S3_ENDPOINT: o.endpoint!,
        S3_REGION: 'eu-west-2',
        S3_ACCESS_KEY_ID: o.accessKeyId,
        S3_SECRET_ACCESS_KEY: o.secretAccessKey,
        S3_FORCE_PATH_STYLE: 'true',
        S3_BUCKET: 'residency-uk',
        S3_BUCKET_US: 'residency-us',
        S3_REGION_US: 'us-east-1',
        SEGMENT_SIZE: '65536',
      });
      server = env.server;
    });

    afterAll(async () => {
      await env?.close();
      await s3?.stop();
    });

    it('does keep each region in its own bucket, replies included, and refuses a region it does not serve', async () => {
      const uk = await tenantIn(server, 'uk', `s3-${target}`);
      const us = await tenantIn(server, 'us', `s3-${target}`);
      expect((await flows.api(uk.admin, 'PUT', '/api/v1/tenant/reply-regions', { allowed: ['eea'] })).body.error.code).toBe('region_not_served');
      expect((await flows.api(uk.admin, 'PUT', '/api/v1/tenant/reply-regions', { allowed: ['us'] })).status).toBe(200);

      const toUk = await flows.sendAndOpen(uk.author, `s3-pat-${target}@client.example`, 'S3 UK matter');
      const toUs = await flows.sendAndOpen(us.author, `s3-lee-${target}@client.example`, 'S3 US matter');
      expect(await flows.replyWithAttachment(toUk.session, 'Stored in the US.', 'us')).toMatchObject({ status: 201, body: { region: 'us' } });
      expect(await flows.replyWithAttachment(toUs.session, 'US reply.')).toMatchObject({ status: 201, body: { region: 'us' } });

      const o = s3.options();
      const client = new S3Client({ endpoint: o.endpoint, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: o.accessKeyId, secretAccessKey: o.secretAccessKey } });
      const keysIn = async (bucket: string) => ((await client.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents ?? []).map((c) => c.Key!).sort();
      const { rows } = await server.runtime.db.query<ObjectRow>(`SELECT id, tenant_id, region, blob_key, shredded_at FROM sealed_objects WHERE tenant_id = ANY($1::uuid[])`, [[uk.tenantId, us.tenantId]]);
      expect(await keysIn('residency-uk')).toEqual(rows.filter((r) => r.region === 'uk').map((r) => r.blob_key).sort());
      expect(await keysIn('residency-us')).toEqual(rows.filter((r) => r.region === 'us').map((r) => r.blob_key).sort());
      expect(rows.filter((r) => r.region === 'uk')).toHaveLength(2);
      expect(rows.filter((r) => r.region === 'us')).toHaveLength(2 + 2 + 2);
      expect(await keysIn('sealpost-blobs')).toEqual([]);
      client.destroy();
      expect(await expectKeksWrappedByTheirRegion(server, [uk.tenantId, us.tenantId])).toBe(3);

      // A tenant in a region without a store here can hold no Content: refused, by name.
      const stray = await createTenant(server.runtime.db, { name: 'Stray', region: 'eea' });
      await expect(server.runtime.content.putBytes(stray.id, Buffer.from('x'))).rejects.toSatisfy((e) => isAppError(e, 'region_not_served') && /does not serve region "eea"; it serves uk, us/.test((e as Error).message));
    });
  });
}

describe('a region taken out of REGIONS while it still holds data', () => {
  it('is reported on /readyz as region_data_not_served, and ready again once served', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'sealpost-e2e-unserved-'));
    const start = async (regions: string) => {
      const port = await freePort();
      return startServer(loadConfig({ PORT: String(port), PUBLIC_URL: `http://127.0.0.1:${port}`, DATA_DIR: dataDir, REGIONS: regions, REGION: 'uk' }), { logger: createLogger('silent') });
    };
    const readiness = async (server: RunningServer) => {
      const res = await fetch(`${server.url}/readyz`);
      return { status: res.status, body: (await res.json()) as { status: string; checks: Record<string, { ok: boolean; error?: string }> } };
    };
    try {
      let server = await start('uk,eea');
      const tenant = await createTenant(server.runtime.db, { name: 'Continental', region: 'eea' });
      await server.runtime.content.putBytes(tenant.id, Buffer.from('stored in the EEA'));
      expect((await readiness(server)).status).toBe(200);
      await server.close();

      // The operator drops eea: the server starts, but is not ready, and says why.
      server = await start('uk');
      const dropped = await readiness(server);
      expect(dropped.status).toBe(503);
      expect(dropped.body.checks.regions).toEqual({ ok: false, error: 'region_data_not_served' });
      expect(dropped.body.checks.database).toEqual({ ok: true });
      await server.close();

      server = await start('uk,eea');
      const back = await readiness(server);
      expect(back.status).toBe(200);
      expect(back.body.checks.regions).toBeUndefined();
      await server.close();
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
