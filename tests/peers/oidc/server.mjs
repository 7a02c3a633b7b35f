// oidc-provider on 127.0.0.1, configured so that each client can authenticate only with the
// method it is registered for: a wrong or missing credential, a reused or expired assertion,
// or a missing client certificate is `invalid_client`; the DPoP client's tokens must be bound,
// with a server nonce in every proof.
//
//   node server.mjs HTTP_PORT HTTPS_PORT CERT_DIR RSA_PUBLIC_PEM
//
// HTTP_PORT serves the issuer; HTTPS_PORT serves the same provider over TLS and asks for a
// client certificate (`requestCert`), which tls_client_auth reads from the TLS socket. The
// metadata names the HTTPS token endpoint in `mtls_endpoint_aliases` (RFC 8705 §5).
//
// Signing-key rotation: the provider exists in three phases that differ only in their key
// set — [k1], [k2, k1] (k2 signs), [k2] — sharing one store (oidc-provider's memory adapter
// is per process) and one cookie key, so a flow may span a rotation. `POST /test/key-phase/N`
// switches phase (the listeners are on 127.0.0.1 only).
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as path from 'node:path';

import * as jose from 'jose';
import Provider, { errors } from 'oidc-provider';

const [httpPort, httpsPort, certDir, rsaPublicPem] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${httpPort}`;
const rsaJwk = {
  ...crypto.createPublicKey(fs.readFileSync(rsaPublicPem)).export({ format: 'jwk' }),
  alg: 'RS256',
  use: 'sig',
};

// The client certificate of the TLS connection, if any.
function getCertificate(ctx) {
  const peer = typeof ctx.socket.getPeerCertificate === 'function' ? ctx.socket.getPeerCertificate() : undefined;
  return peer && peer.raw ? new crypto.X509Certificate(peer.raw) : undefined;
}

// Verified against the test CA by the TLS listener (`ca`, `requestCert`).
function certificateAuthorized(ctx) {
  return ctx.socket.authorized === true;
}

function certificateSubjectMatches(ctx, property, expected) {
  const certificate = getCertificate(ctx);
  return property === 'tls_client_auth_subject_dn' && certificate !== undefined && certificate.subject === expected;
}

const clientCredentials = { grant_types: ['client_credentials'], redirect_uris: [], response_types: [] };

// The signing keys of the rotation phases.
function signingKey(kid) {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' };
}
const [k1, k2] = [signingKey('k1'), signingKey('k2')];
const keyPhases = [[k1], [k2, k1], [k2]];
const cookieKeys = [crypto.randomBytes(32).toString('hex')];
const dpopNonceSecret = crypto.randomBytes(32);

// Token exchange (RFC 8693 §2): an active access token of this provider, for the calling
// client; anything else is refused as the RFC says.
const TOKEN_EXCHANGE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';
const TOKEN_EXCHANGE_PARAMETERS = new Set([
  'subject_token', 'subject_token_type', 'actor_token', 'actor_token_type', 'requested_token_type', 'audience', 'scope',
]);
async function tokenExchange(ctx) {
  const { subject_token: subjectToken, subject_token_type: subjectTokenType, audience } = ctx.oidc.params;
  if (!subjectToken || subjectTokenType !== ACCESS_TOKEN_TYPE) {
    throw new errors.InvalidRequest(`subject_token and subject_token_type=${ACCESS_TOKEN_TYPE} are required`);
  }
  if (audience !== undefined && audience !== 'https://api.example/') {
    throw new errors.InvalidTarget('unknown audience');
  }
  const { provider } = ctx.oidc;
  const subject = (await provider.AccessToken.find(subjectToken)) ?? (await provider.ClientCredentials.find(subjectToken));
  if (!subject || subject.isExpired) throw new errors.InvalidGrant('the subject token is not active');
  await issue(ctx, subject.scope, { issued_token_type: ACCESS_TOKEN_TYPE });
}

// The JWT bearer grant (RFC 7523 §2.1, §3): an assertion signed with the test RSA key, for
// this provider's token endpoint or issuer, not expired, its jti used once.
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
const usedJtis = new Set();
async function jwtBearer(ctx) {
  const { assertion, scope } = ctx.oidc.params;
  let claims;
  try {
    ({ payload: claims } = await jose.jwtVerify(assertion ?? '', await jose.importJWK(rsaJwk, 'RS256'), {
      audience: [issuer, `${issuer}/token`],
      requiredClaims: ['iss', 'sub', 'exp', 'jti'],
    }));
  } catch (error) {
    throw new errors.InvalidGrant(`the assertion is not valid: ${error.message}`);
  }
  if (usedJtis.has(claims.jti)) throw new errors.InvalidGrant('the assertion was used before');
  usedJtis.add(claims.jti);
  await issue(ctx, scope, {});
}

// An access token for the calling client, answered as a token response.
async function issue(ctx, scope, extra) {
  const token = new ctx.oidc.provider.ClientCredentials({ client: ctx.oidc.client, scope: scope || undefined });
  ctx.body = {
    access_token: await token.save(),
    token_type: 'Bearer',
    expires_in: token.expiration,
    ...(token.scope ? { scope: token.scope } : {}),
    ...extra,
  };
}

const configuration = (signingKeys) => ({
  jwks: { keys: signingKeys },
  cookies: { keys: cookieKeys },
  clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'client_secret_jwt', 'private_key_jwt', 'tls_client_auth', 'none'],
  clients: [
    {
      ...clientCredentials,
      client_id: 'post-client',
      client_secret: 'post-client-secret',
      token_endpoint_auth_method: 'client_secret_post',
      // Signed introspection answers (RFC 9701) when asked for with their media type.
      introspection_signed_response_alg: 'RS256',
    },
    {
      ...clientCredentials,
      client_id: 'jwt-secret-client',
      client_secret: 'jwt-secret-client-secret-of-at-least-32-bytes',
      token_endpoint_auth_method: 'client_secret_jwt',
      token_endpoint_auth_signing_alg: 'HS256',
    },
    {
      ...clientCredentials,
      client_id: 'private-key-client',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks: { keys: [rsaJwk] },
    },
    {
      // Its tokens must be DPoP-bound: a token request without a proof is refused.
      ...clientCredentials,
      client_id: 'dpop-client',
      client_secret: 'dpop-client-secret',
      token_endpoint_auth_method: 'client_secret_post',
      dpop_bound_access_tokens: true,
    },
    {
      // The authorization-code client: PAR, signed request objects and DPoP-bound tokens
      // are all required of it; it authenticates with private_key_jwt.
      client_id: 'web-client',
      application_type: 'native',
      token_endpoint_auth_method: 'private_key_jwt',
      token_endpoint_auth_signing_alg: 'RS256',
      jwks: { keys: [rsaJwk] },
      redirect_uris: ['http://127.0.0.1:9/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      require_pushed_authorization_requests: true,
      require_signed_request_object: true,
      request_object_signing_alg: 'RS256',
      dpop_bound_access_tokens: true,
      authorization_details_types: ['account_information'],
    },
    {
      // A public native client, as the `oauth` command line is: any loopback port
      // (RFC 8252 §7.3), PKCE, no secret.
      client_id: 'cli-client',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    },
    {
      // The `oauth` command line's login-to-revocation session: a confidential native
      // client that may refresh (oidc-provider issues a refresh token for `offline_access`
      // only after `prompt=consent`).
      client_id: 'cli-session-client',
      client_secret: 'cli-session-secret',
      application_type: 'native',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    {
      // A plain OpenID Connect client: authorization code with `openid`, an ID token.
      client_id: 'oidc-client',
      client_secret: 'oidc-client-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      redirect_uris: ['http://127.0.0.1:9/callback'],
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
    },
    {
      // The `oauth` command line's PAR client: public and native like cli-client, but PAR,
      // DPoP-bound tokens and rich authorization requests are required of it.
      client_id: 'cli-par-client',
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code'],
      response_types: ['code'],
      require_pushed_authorization_requests: true,
      dpop_bound_access_tokens: true,
      authorization_details_types: ['account_information'],
    },
    {
      // Token exchange (RFC 8693) and the JWT bearer grant (RFC 7523), which oidc-provider
      // leaves to the deployment: see the grant handlers below.
      ...clientCredentials,
      client_id: 'exchange-client',
      client_secret: 'exchange-client-secret',
      token_endpoint_auth_method: 'client_secret_post',
      grant_types: ['client_credentials', TOKEN_EXCHANGE, JWT_BEARER],
    },
    {
      ...clientCredentials,
      client_id: 'mtls-client',
      token_endpoint_auth_method: 'tls_client_auth',
      tls_client_auth_subject_dn: 'CN=mtls-client',
    },
  ],
  features: {
    clientCredentials: { enabled: true },
    // Dynamic client registration (RFC 7591) behind an initial access token, and its
    // management (RFC 7592).
    registration: { enabled: true, initialAccessToken: 'initial-access-token-for-the-tests' },
    registrationManagement: { enabled: true, rotateRegistrationAccessToken: false },
    introspection: { enabled: true },
    jwtIntrospection: { enabled: true },
    revocation: { enabled: true },
    devInteractions: { enabled: true },
    pushedAuthorizationRequests: { enabled: true },
    requestObjects: { enabled: true },
    // One resource server (RFC 8707); tokens for it carry its scope.
    resourceIndicators: {
      enabled: true,
      defaultResource: async (ctx, client, oneOf) => oneOf,
      useGrantedResource: async () => true,
      // The tests' own resource servers on loopback (RFC 9728 discovery) are resources too.
      getResourceServerInfo: async (ctx, indicator) => {
        if (indicator !== 'https://api.example/' && !/^http:\/\/127\.0\.0\.1:\d+\/$/.test(indicator)) {
          throw new errors.InvalidTarget();
        }
        // The loopback resources also have `admin`, which their /admin asks for (step-up).
        const scope = indicator === 'https://api.example/' ? 'api:read' : 'api:read admin';
        return { scope, accessTokenFormat: 'opaque', accessTokenTTL: 600 };
      },
    },
    // Rich authorization requests (RFC 9396): one type; the details the user consented to go
    // into the code, from the code into the token, from the token into introspection.
    richAuthorizationRequests: {
      enabled: true,
      types: {
        account_information: {
          validate(ctx, detail) {
            if (!Array.isArray(detail.actions)) throw new errors.InvalidAuthorizationDetails('actions must be an array');
          },
        },
      },
      authorizationDetailsForGrantSource: (ctx) => ctx.oidc.grant.rar,
      authorizationDetailsForAccessToken: (ctx, token, source) => source?.rar,
      authorizationDetailsForIntrospection: (ctx, token) => token.rar,
    },
    // Every DPoP proof must carry a nonce the server issued (RFC 9449 §8).
    dPoP: { enabled: true, nonceSecret: dpopNonceSecret, requireNonce: () => true },
    mTLS: {
      enabled: true,
      tlsClientAuth: true,
      getCertificate,
      certificateAuthorized,
      certificateSubjectMatches,
    },
  },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  discovery: {
    mtls_endpoint_aliases: { token_endpoint: `https://127.0.0.1:${httpsPort}/token` },
  },
});

const providers = keyPhases.map((keys) => {
  const provider = new Provider(issuer, configuration(keys));
  provider.registerGrantType(TOKEN_EXCHANGE, tokenExchange, TOKEN_EXCHANGE_PARAMETERS);
  provider.registerGrantType(JWT_BEARER, jwtBearer, new Set(['assertion', 'scope']));
  return provider;
});
let phase = 0;
const callbacks = providers.map((provider) => provider.callback());
const callback = (req, res) => {
  const switchTo = /^\/test\/key-phase\/(\d)$/.exec(req.url);
  if (req.method === 'POST' && switchTo && Number(switchTo[1]) < providers.length) {
    phase = Number(switchTo[1]);
    res.writeHead(204).end();
    return;
  }
  callbacks[phase](req, res);
};
http.createServer(callback).listen(Number(httpPort), '127.0.0.1');
https
  .createServer(
    {
      key: fs.readFileSync(path.join(certDir, 'server.key')),
      cert: fs.readFileSync(path.join(certDir, 'server.pem')),
      ca: fs.readFileSync(path.join(certDir, 'ca.pem')),
      requestCert: true,
      rejectUnauthorized: false,
    },
    callback,
  )
  .listen(Number(httpsPort), '127.0.0.1');
console.log(`oidc-provider: ${issuer}, mTLS on https://127.0.0.1:${httpsPort}`);
