// Bundled for the page in the vector test: the browser crypto exactly as the web app uses it.
import { createWebClientKeyPair, openWebKeyRelease } from '../../../src/crypto/web/key-release.ts';
import { createOpenTransformStream, importDataKey, openSealedBytes, sealBytes } from '../../../src/crypto/web/sealed-object.ts';

(globalThis as unknown as { sealpostCrypto: unknown }).sealpostCrypto = { createWebClientKeyPair, openWebKeyRelease, createOpenTransformStream, importDataKey, openSealedBytes, sealBytes };
