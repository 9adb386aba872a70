// A real OpenID Connect provider for Confer's tests: node-oidc-provider (an
// OpenID Certified implementation) on 127.0.0.1, a random port, with its
// development login form (any email signs in as itself) and consent page.
//
//   REDIRECT_URI=http://127.0.0.1:PORT/login/sso/callback node provider.mjs
//
// prints `READY <issuer>` once it listens. Registered clients (secret
// "confer-test-secret"):
//   confer                  a well-behaved confidential client, PKCE required;
//   confer-wrong-audience   the same, except that the provider then hands it
//                           ID tokens issued to another application (signed
//                           with the provider's own key) — what an audience
//                           check exists to catch.
// An account whose email starts with "unverified" has email_verified false.
import { createServer } from 'node:http';
import * as jose from 'jose';
import Provider from 'oidc-provider';

const redirectUri = process.env.REDIRECT_URI;
if (!redirectUri) {
  console.error('REDIRECT_URI is required');
  process.exit(2);
}

const server = createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const { privateKey } = await jose.generateKeyPair('RS256', { extractable: true });
const signingKey = { ...(await jose.exportJWK(privateKey)), kid: 'confer-test', alg: 'RS256', use: 'sig' };

const client = (id) => ({
  client_id: id,
  client_secret: 'confer-test-secret',
  redirect_uris: [redirectUri],
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
});

const provider = new Provider(issuer, {
  clients: [client('confer'), client('confer-wrong-audience')],
  jwks: { keys: [signingKey] },
  pkce: { required: () => true },
  scopes: ['openid', 'email', 'profile'],
  claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
  // The ID token itself carries the email (Confer reads no userinfo).
  conformIdTokenClaims: false,
  cookies: { keys: ['confer-test-cookies'] },
  features: { devInteractions: { enabled: true } },
  async findAccount(ctx, id) {
    return {
      accountId: id,
      async claims() {
        return {
          sub: id,
          email: id,
          email_verified: !id.startsWith('unverified'),
          name: id.split('@')[0],
        };
      },
    };
  },
});

provider.use(async (ctx, next) => {
  await next();
  if (ctx.path === '/token' && ctx.status === 200 && ctx.body && ctx.body.id_token
      && ctx.oidc && ctx.oidc.client && ctx.oidc.client.clientId === 'confer-wrong-audience') {
    const claims = jose.decodeJwt(ctx.body.id_token);
    ctx.body.id_token = await new jose.SignJWT({ ...claims, aud: 'another-application' })
      .setProtectedHeader({ alg: 'RS256', kid: 'confer-test', typ: 'JWT' })
      .sign(privateKey);
  }
});

server.on('request', provider.callback());
console.log(`READY ${issuer}`);
