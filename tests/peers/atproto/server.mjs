// An in-memory PLC directory and a PDS (with its OAuth authorization server) on 127.0.0.1
// (tests/peers/loopback.cjs binds them), for the AT Protocol sign-in tests:
//   node server.mjs PDS_PORT DATA_DIR
// The PDS's hostname is `localhost`, so its issuer and service URL are
// http://localhost:PDS_PORT and its handles end in `.test`. Prints the PLC directory's URL.
import crypto from 'node:crypto';
import path from 'node:path';
import { PlcServer, Database as PlcDatabase } from '@did-plc/server';
import { PDS, envToCfg, envToSecrets, readEnv } from '@atproto/pds';

const [pdsPort, data] = process.argv.slice(2);
const plc = PlcServer.create({ db: PlcDatabase.mock(), port: 0 });
const plcServer = await plc.start();
const plcUrl = `http://127.0.0.1:${plcServer.address().port}`;

const secret = () => crypto.randomBytes(32).toString('hex');
Object.assign(process.env, {
  PDS_HOSTNAME: 'localhost',
  PDS_PORT: pdsPort,
  PDS_DID_PLC_URL: plcUrl,
  PDS_DATA_DIRECTORY: data,
  PDS_BLOBSTORE_DISK_LOCATION: path.join(data, 'blobs'),
  PDS_JWT_SECRET: secret(),
  PDS_DPOP_SECRET: secret(),
  PDS_ADMIN_PASSWORD: 'admin-pass',
  PDS_PLC_ROTATION_KEY_K256_PRIVATE_KEY_HEX: secret(),
  // Development mode: http URLs on loopback, no SSRF protection against 127.0.0.1.
  PDS_DEV_MODE: 'true',
  PDS_INVITE_REQUIRED: 'false',
  PDS_CRAWLERS: '',
  LOG_ENABLED: 'false',
});
const env = readEnv();
const pds = await PDS.create(envToCfg(env), envToSecrets(env));
await pds.start();
console.log(plcUrl);
