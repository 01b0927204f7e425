// The development identity provider for CP-IS Viewer: `oidc-provider` (OpenID Certified) with
// synthetic users shaped like NHS Care Identity Service 2 accounts.
//
// FOR DEVELOPMENT AND TESTS ONLY. Its signing key is committed to the repository, so anyone can
// mint tokens it would accept. Never point a real service at it.
//
// Usage: node server.js [--port 9090] [--test-hooks]
//   --port 0 picks a free port. The first line on stdout is `dev-idp listening on <issuer>`.
//   --test-hooks (or DEV_IDP_TEST_HOOKS=1) enables POST /test/tamper-next-id-token, which makes
//   the next token response carry a deliberately bad ID token (for the client's negative tests).
//
// One client, `cpis-broker` (the trust's token broker: confidential, private_key_jwt), which gets
// CIS2-shaped tokens as docs/sign-in.md section 1 says: an ID token without roles, and an opaque
// access token that gives the roles at userinfo (`/me`).

import http from 'node:http';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import Provider, { interactionPolicy } from 'oidc-provider';
import { SignJWT, UnsecuredJWT, importJWK, decodeJwt } from 'jose';

import {
  ACR_MINIMUM_LEVEL,
  USERS,
  acrFor,
  amrFor,
  claimsFor,
  loginIdForSub,
  satisfiesAcrValues,
} from './users.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const HOST = '127.0.0.1';
/** The trust's token broker: a confidential client, authenticated with private_key_jwt. */
const BROKER_CLIENT_ID = 'cpis-broker';
/** The broker's public JWKS (development key, committed). DEV_IDP_BROKER_JWKS overrides the path. */
const BROKER_JWKS_FILE = process.env.DEV_IDP_BROKER_JWKS
  ? path.resolve(process.env.DEV_IDP_BROKER_JWKS)
  : path.join(here, '../crates/cpis-broker/dev-keys/DEV-ONLY-broker.jwks.public.json');
/** The algorithms a client assertion may be signed with: RS512 (CIS2's) and RS256. */
const CLIENT_AUTH_ALGS = ['RS256', 'RS512'];
const SCOPES = ['openid', 'profile', 'nationalrbacaccess', 'associatedorgs', 'selectedrole'];
/** Every user claim a grant may release (the consent is implied). */
const USER_CLAIMS = [
  'name',
  'given_name',
  'family_name',
  'nhsid_useruid',
  'authentication_assurance_level',
  'id_assurance_level',
  'nhsid_nrbac_roles',
  'nhsid_user_orgs',
  'selected_roleid',
];
/**
 * The account claims the broker gets, by use: CIS2's shape, no roles in the ID token, roles at
 * userinfo. The provider adds `acr`, `amr`, `auth_time` and `nonce` to ID tokens itself.
 */
const CLAIMS_BY_USE = {
  id_token: [
    'sub',
    'name',
    'given_name',
    'family_name',
    'nhsid_useruid',
    'authentication_assurance_level',
    'id_assurance_level',
    'selected_roleid',
  ],
  userinfo: ['sub', 'name', 'nhsid_nrbac_roles', 'nhsid_user_orgs', 'selected_roleid'],
};

function argument(name) {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

const port = Number(argument('--port') ?? process.env.DEV_IDP_PORT ?? 9090);
const testHooks = process.argv.includes('--test-hooks') || process.env.DEV_IDP_TEST_HOOKS === '1';

const signingJwk = JSON.parse(readFileSync(path.join(here, 'keys/signing-key.private.jwk.json'), 'utf8'));
const wrongJwk = JSON.parse(readFileSync(path.join(here, 'keys/wrong-key.private.jwk.json'), 'utf8'));
/**
 * The broker's keys without their `alg`, so that one key verifies both RS512 and RS256 client
 * assertions (oidc-provider only uses a key whose `alg` is set for that algorithm).
 */
const brokerJwks = {
  keys: JSON.parse(readFileSync(BROKER_JWKS_FILE, 'utf8')).keys.map(({ alg: _alg, ...key }) => key),
};

/** Tamper mode for the next token response, set by the test hook; null when off. */
let tamperNextIdToken = null;
const TAMPER_MODES = [
  'wrong_audience',
  'expired',
  'wrong_signature',
  'wrong_nonce',
  'wrong_issuer',
  'alg_none',
  'alg_hs256',
];

async function tamperedIdToken(idToken, mode, issuer) {
  const claims = decodeJwt(idToken);
  const now = Math.floor(Date.now() / 1000);
  let key = signingJwk;
  switch (mode) {
    case 'wrong_audience':
      claims.aud = 'some-other-client';
      break;
    case 'expired':
      claims.iat = now - 7200;
      claims.exp = now - 3600;
      break;
    case 'wrong_signature':
      key = wrongJwk;
      break;
    case 'wrong_nonce':
      claims.nonce = 'not-the-nonce-that-was-sent';
      break;
    case 'wrong_issuer':
      claims.iss = `${issuer}/somewhere-else`;
      break;
    case 'alg_none':
      return new UnsecuredJWT(claims).encode();
    case 'alg_hs256': {
      // HMAC keyed with the (public) client id: anyone could forge it, so clients must refuse HS*.
      const clientId = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
      return new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .sign(new TextEncoder().encode(`${clientId}-hmac-key-padding-to-32-bytes`));
    }
    default:
      throw new Error(`unknown tamper mode ${mode}`);
  }
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, typ: 'JWT' })
    .sign(await importJWK(key, 'RS256'));
}

function pick(object, keys) {
  return Object.fromEntries(keys.filter((key) => key in object).map((key) => [key, object[key]]));
}

function accountFor(ctx, accountId, token) {
  const loginId = loginIdForSub(accountId);
  if (!loginId) return undefined;
  return {
    accountId,
    // `use` is 'id_token' or 'userinfo'; the provider then filters by the granted scopes.
    async claims(use) {
      const clientId = ctx?.oidc?.client?.clientId ?? token?.clientId;
      const allowed = clientId === BROKER_CLIENT_ID ? CLAIMS_BY_USE[use] ?? ['sub'] : ['sub'];
      return pick(claimsFor(loginId), allowed);
    },
  };
}

/**
 * The login prompt also asks to authenticate again when the session's sign-in does not satisfy
 * the request's `acr_values` (the interaction then refuses a user who cannot reach it).
 */
function policy() {
  const { Check, base } = interactionPolicy;
  const prompts = base();
  prompts.get('login').checks.add(
    new Check('acr_values', 'the requested authentication assurance level is not met', (ctx) => {
      const { oidc } = ctx;
      if (!oidc.params.acr_values || !oidc.session.accountId) return Check.NO_NEED_TO_PROMPT;
      const loginId = loginIdForSub(oidc.session.accountId);
      return loginId && satisfiesAcrValues(loginId, oidc.params.acr_values)
        ? Check.NO_NEED_TO_PROMPT
        : Check.REQUEST_PROMPT;
    }),
  );
  return prompts;
}

function configuration() {
  return {
    clients: [
      {
        client_id: BROKER_CLIENT_ID,
        client_name: 'cpis-broker (development)',
        // `native` only for RFC 8252 section 7.3's any-port loopback redirect (development); the
        // client is confidential all the same: it authenticates with a JWT signed by its key.
        application_type: 'native',
        token_endpoint_auth_method: 'private_key_jwt',
        // No `token_endpoint_auth_signing_alg`: any of CLIENT_AUTH_ALGS (RS512, RS256).
        jwks: brokerJwks,
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        redirect_uris: ['http://127.0.0.1/callback'],
        id_token_signed_response_alg: 'RS256',
        require_auth_time: true,
      },
    ],
    jwks: { keys: [signingJwk] },
    // The ID token carries the scopes' claims chosen in findAccount().claims() (names, assurance
    // levels, selected_roleid) although an access token is issued too, as CIS2's does; the roles
    // are at userinfo only.
    conformIdTokenClaims: false,
    clientAuthMethods: ['private_key_jwt'],
    enabledJWA: { clientAuthSigningAlgValues: CLIENT_AUTH_ALGS },
    acrValues: Object.keys(ACR_MINIMUM_LEVEL),
    scopes: SCOPES,
    claims: {
      acr: null,
      amr: null,
      auth_time: null,
      openid: ['sub', 'acr', 'amr', 'auth_time', 'nhsid_useruid', 'authentication_assurance_level', 'id_assurance_level'],
      profile: ['name', 'given_name', 'family_name'],
      nationalrbacaccess: ['nhsid_nrbac_roles'],
      associatedorgs: ['nhsid_user_orgs'],
      selectedrole: ['selected_roleid'],
    },
    async findAccount(ctx, accountId, token) {
      return accountFor(ctx, accountId, token);
    },
    interactions: {
      policy: policy(),
      url(_ctx, interaction) {
        return `/interaction/${interaction.uid}`;
      },
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      // No resource indicators: the access token is opaque, for userinfo (`/me`), as CIS2's is.
    },
    async issueRefreshToken(_ctx, client) {
      return client.grantTypeAllowed('refresh_token');
    },
    pkce: { required: () => true },
    ttl: {
      // The broker uses the access token only for userinfo, right after the code exchange.
      AccessToken: 60 * 60,
      AuthorizationCode: 60,
      IdToken: 60 * 60,
      Interaction: 10 * 60,
      Grant: 12 * 60 * 60,
      Session: 12 * 60 * 60,
      // The app signs in again at least every 12 hours.
      RefreshToken: 12 * 60 * 60,
    },
    cookies: { keys: ['cpis-dev-idp-cookie-key-public-not-secret'] },
  };
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid) {
  const buttons = Object.entries(USERS)
    .map(([loginId, user]) => {
      const role = user.nhsid_nrbac_roles.find((r) => r.person_roleid === user.selected_roleid);
      const who = `${user.given_name} ${user.family_name} (AAL${user.authentication_assurance_level})`;
      const label = role
        ? `${who}: ${role.role_name} at ${role.org_code} (${role.activity_codes.join(', ')})`
        : `${who}: no role`;
      return `<li><button type="submit" name="login" value="${escapeHtml(loginId)}">${escapeHtml(label)}</button></li>`;
    })
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Development sign-in</title></head>
<body><main><h1>Development sign-in (synthetic users)</h1>
<p>This identity provider is for development and tests only. Choose a synthetic user.</p>
<form method="post" action="/interaction/${escapeHtml(uid)}/login"><ul>${buttons}</ul></form>
</main></body></html>`;
}

async function readForm(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16 * 1024) throw new Error('form too large');
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, contentType, body) {
  res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  res.end(body);
}

async function finishLogin(provider, req, res, details, loginId) {
  const user = USERS[loginId];
  if (!user) {
    send(res, 400, 'text/plain', 'unknown synthetic user');
    return;
  }
  // As CIS2: a user who cannot reach the requested assurance level is refused, to the client.
  if (!satisfiesAcrValues(loginId, details.params.acr_values)) {
    await provider.interactionFinished(
      req,
      res,
      {
        error: 'access_denied',
        error_description: 'the user cannot sign in at the requested authentication assurance level',
      },
      { mergeWithLastSubmission: false },
    );
    return;
  }
  await provider.interactionFinished(
    req,
    res,
    { login: { accountId: user.sub, acr: acrFor(loginId), amr: amrFor(loginId), remember: true } },
    { mergeWithLastSubmission: false },
  );
}

/** The sign-in pages. A `login_hint` naming a synthetic user signs in without a page (tests). */
async function interaction(provider, req, res, url) {
  const match = url.pathname.match(/^\/interaction\/([^/]+)(\/login)?$/);
  if (!match) {
    send(res, 404, 'text/plain', 'not found');
    return;
  }
  const details = await provider.interactionDetails(req, res);
  if (process.env.DEV_IDP_DEBUG) console.error(JSON.stringify(details.prompt), JSON.stringify(details.result));
  if (details.uid !== match[1]) {
    send(res, 400, 'text/plain', 'interaction mismatch');
    return;
  }
  if (req.method === 'POST' && match[2]) {
    const form = await readForm(req);
    await finishLogin(provider, req, res, details, form.get('login'));
    return;
  }
  if (details.prompt.name === 'login') {
    const hint = details.params.login_hint;
    if (hint && USERS[hint]) {
      await finishLogin(provider, req, res, details, hint);
      return;
    }
    send(res, 200, 'text/html; charset=utf-8', loginPage(details.uid));
    return;
  }
  // A first-party app: consent is implied, so every requested scope is granted.
  const grant = new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
  grant.addOIDCScope(SCOPES.join(' '));
  grant.addOIDCClaims(USER_CLAIMS);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

async function testHook(req, res, url) {
  if (url.pathname === '/test/tamper-next-id-token' && req.method === 'POST') {
    const mode = (await readForm(req)).get('mode');
    if (!TAMPER_MODES.includes(mode)) {
      send(res, 400, 'text/plain', `mode must be one of ${TAMPER_MODES.join(', ')}`);
      return;
    }
    tamperNextIdToken = mode;
    send(res, 204, 'text/plain', '');
    return;
  }
  send(res, 404, 'text/plain', 'not found');
}

const server = http.createServer();
server.listen(port, HOST, () => {
  const issuer = `http://${HOST}:${server.address().port}`;
  const provider = new Provider(issuer, configuration());

  if (testHooks) {
    provider.use(async (ctx, next) => {
      await next();
      if (ctx.path === '/token' && ctx.status === 200 && tamperNextIdToken && ctx.body?.id_token) {
        const mode = tamperNextIdToken;
        tamperNextIdToken = null;
        ctx.body = { ...ctx.body, id_token: await tamperedIdToken(ctx.body.id_token, mode, issuer) };
      }
    });
  }

  const callback = provider.callback();
  server.on('request', (req, res) => {
    const url = new URL(req.url, issuer);
    let handled;
    if (url.pathname.startsWith('/interaction/')) {
      handled = interaction(provider, req, res, url);
    } else if (testHooks && url.pathname.startsWith('/test/')) {
      handled = testHook(req, res, url);
    } else {
      callback(req, res);
      return;
    }
    handled.catch((error) => {
      console.error(`dev-idp: ${error.message}`);
      if (!res.headersSent) send(res, 400, 'text/plain', 'sign-in failed');
    });
  });

  console.log(`dev-idp listening on ${issuer}`);
});
