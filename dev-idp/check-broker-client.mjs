// End-to-end check of dev-idp as the broker sees it (docs/sign-in.md section 1): starts
// `node server.js --port 0 --test-hooks`, signs synthetic users in as client `cpis-broker`
// (PKCE S256, prompt=login, acr_values, login_hint), exchanges the code with a private_key_jwt
// client assertion signed by the broker's development key, and checks the ID token, userinfo,
// refresh, the acr_values refusal, the test hook, and that `cpis-broker` is the only client.
//
// Usage: node check-broker-client.mjs [issuer]   (without an issuer it starts its own dev-idp;
// a dev-idp given by its issuer must run with --test-hooks). Runs every check and exits non-zero
// if any failed. Development and tests only.

import { spawn } from 'node:child_process';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

import { SignJWT, createRemoteJWKSet, decodeJwt, decodeProtectedHeader, importPKCS8, jwtVerify } from 'jose';

const here = path.dirname(fileURLToPath(import.meta.url));
const BROKER = 'cpis-broker';
const REDIRECT_URI = 'http://127.0.0.1:12345/callback';
const SCOPE = 'openid profile nationalrbacaccess associatedorgs selectedrole';
const KEY_FILE = path.join(here, '../crates/cpis-broker/dev-keys/DEV-ONLY-broker-signing-key.pem');
const KID = 'cpis-broker-dev-1';

let child;
async function startIdp() {
  child = spawn(process.execPath, [path.join(here, 'server.js'), '--port', '0', '--test-hooks'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const match = out.match(/dev-idp listening on (\S+)/);
      if (match) resolve(match[1]);
    });
    child.on('exit', (code) => reject(new Error(`dev-idp exited with ${code}`)));
  });
}

const issuer = process.argv[2] ?? (await startIdp());
const discovery = await (await fetch(`${issuer}/.well-known/openid-configuration`)).json();
const jwks = createRemoteJWKSet(new URL(discovery.jwks_uri));
const pem = readFileSync(KEY_FILE, 'utf8');

function pkce() {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** A cookie jar per browser; follows the provider's own redirects, stops at the client's. */
function browser() {
  const jar = new Map();
  return async function navigate(start) {
    let url = start;
    let body;
    for (let hops = 0; hops < 10; hops += 1) {
      const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
      const headers = cookie ? { cookie } : {};
      const res = await fetch(url, body ? { method: 'POST', body, headers, redirect: 'manual' } : { headers, redirect: 'manual' });
      body = undefined;
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const eq = pair.indexOf('=');
        jar.set(pair.slice(0, eq), pair.slice(eq + 1));
      }
      const location = res.headers.get('location');
      if (!location) {
        const text = await res.text();
        // The provider's self-submitting forms (e.g. ending the previous user's session when
        // another user signs in): submit them as a browser's script would.
        const form = text.match(/<title>Submitting Callback<\/title>[\s\S]*<form method="post" action="([^"]+)">/);
        if (res.status === 200 && form) {
          body = new URLSearchParams(
            [...text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"\/>/g)].map((m) => [m[1], m[2]]),
          );
          url = form[1];
          continue;
        }
        return { status: res.status, body: text };
      }
      const next = new URL(location, url);
      if (!next.href.startsWith(issuer)) return { status: res.status, location: next };
      url = next.href;
    }
    throw new Error('too many redirects');
  };
}

async function authorize(navigate, { clientId = BROKER, login, acr, prompt = 'login', scope = SCOPE }) {
  const { verifier, challenge } = pkce();
  const state = randomBytes(12).toString('base64url');
  const nonce = randomBytes(12).toString('base64url');
  const url = new URL(discovery.authorization_endpoint);
  const params = {
    client_id: clientId,
    response_type: 'code',
    redirect_uri: REDIRECT_URI,
    scope,
    state,
    nonce,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  };
  if (prompt) params.prompt = prompt;
  if (acr) params.acr_values = acr;
  if (login) params.login_hint = login;
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  const result = await navigate(url.href);
  return { ...result, verifier, state, nonce };
}

async function clientAssertion(alg = 'RS512') {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({})
    .setProtectedHeader({ alg, kid: KID, typ: 'JWT' })
    .setIssuer(BROKER)
    .setSubject(BROKER)
    .setAudience(discovery.token_endpoint)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + 300)
    .sign(await importPKCS8(pem, alg));
}

async function token(form, alg) {
  const body = new URLSearchParams({
    ...form,
    client_id: BROKER,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await clientAssertion(alg),
  });
  const res = await fetch(discovery.token_endpoint, { method: 'POST', body });
  return { status: res.status, json: await res.json() };
}

async function signInBroker(navigate, login, acr, alg = 'RS512') {
  const auth = await authorize(navigate, { login, acr });
  assert.equal(auth.status, 303, `authorization redirect for ${login}: ${JSON.stringify(auth)}`);
  assert.equal(`${auth.location.origin}${auth.location.pathname}`, REDIRECT_URI);
  assert.equal(auth.location.searchParams.get('state'), auth.state);
  const code = auth.location.searchParams.get('code');
  assert.ok(code, `no code: ${auth.location}`);
  const res = await token({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: auth.verifier }, alg);
  assert.equal(res.status, 200, JSON.stringify(res.json));
  return { ...res.json, nonce: auth.nonce };
}

async function userinfo(accessToken) {
  const res = await fetch(discovery.userinfo_endpoint, { headers: { authorization: `Bearer ${accessToken}` } });
  return { status: res.status, json: await res.json() };
}

function check(name, fn) {
  return fn().then(
    () => console.log(`ok   ${name}`),
    (error) => {
      console.log(`FAIL ${name}: ${error.message}`);
      process.exitCode = 1;
    },
  );
}

await check('discovery advertises private_key_jwt, RS512 and the CIS2 acr values', async () => {
  assert.ok(discovery.token_endpoint_auth_methods_supported.includes('private_key_jwt'));
  assert.ok(discovery.token_endpoint_auth_signing_alg_values_supported.includes('RS512'));
  assert.ok(discovery.acr_values_supported.includes('AAL3_ANY'));
  assert.ok(discovery.acr_values_supported.includes('AAL2_ANY'));
  assert.ok(discovery.code_challenge_methods_supported.includes('S256'));
  assert.equal(discovery.userinfo_endpoint, `${issuer}/me`);
});

await check('ed-nurse at AAL3_ANY: ID token and userinfo have the CIS2 shape', async () => {
  const tokens = await signInBroker(browser(), 'ed-nurse', 'AAL3_ANY');
  const { payload, protectedHeader } = await jwtVerify(tokens.id_token, jwks, { issuer, audience: BROKER });
  assert.equal(protectedHeader.alg, 'RS256');
  assert.equal(payload.sub, '900000000001');
  assert.equal(payload.nhsid_useruid, '900000000001');
  assert.equal(payload.name, 'Tess Triage-Test');
  assert.equal(payload.given_name, 'Tess');
  assert.equal(payload.family_name, 'Triage-Test');
  assert.equal(payload.nonce, tokens.nonce);
  assert.equal(typeof payload.auth_time, 'number');
  assert.equal(payload.acr, 'AAL3_ANY');
  assert.deepEqual(payload.amr, ['SCA']);
  assert.equal(payload.authentication_assurance_level, '3');
  assert.equal(payload.id_assurance_level, '3');
  assert.equal(payload.selected_roleid, '555000000101');
  assert.equal(payload.nhsid_nrbac_roles, undefined);
  assert.equal(payload.nhsid_user_orgs, undefined);
  assert.ok(tokens.refresh_token, 'no refresh token');
  assert.equal(tokens.access_token.split('.').length, 1, 'access token should be opaque');
  const info = await userinfo(tokens.access_token);
  assert.equal(info.status, 200, JSON.stringify(info.json));
  assert.deepEqual(Object.keys(info.json).sort(), ['name', 'nhsid_nrbac_roles', 'nhsid_user_orgs', 'selected_roleid', 'sub']);
  assert.equal(info.json.sub, '900000000001');
  assert.equal(info.json.selected_roleid, '555000000101');
  assert.deepEqual(info.json.nhsid_nrbac_roles[0].activity_codes, ['B0107']);
  assert.equal(info.json.nhsid_user_orgs[0].org_code, 'ZZ1ED');
  console.log(`     ID token: ${JSON.stringify(payload)}`);
  console.log(`     userinfo: ${JSON.stringify(info.json)}`);

  const refreshed = await token({ grant_type: 'refresh_token', refresh_token: tokens.refresh_token });
  assert.equal(refreshed.status, 200, JSON.stringify(refreshed.json));
  assert.equal((await userinfo(refreshed.json.access_token)).status, 200);
});

await check('a client assertion signed RS256 is accepted too', async () => {
  await signInBroker(browser(), 'midwife', 'AAL3_ANY', 'RS256');
});

await check('a client assertion signed by another key is refused', async () => {
  const navigate = browser();
  const auth = await authorize(navigate, { login: 'ed-nurse', acr: 'AAL3_ANY' });
  const code = auth.location.searchParams.get('code');
  const { generateKeyPair } = await import('jose');
  const { privateKey } = await generateKeyPair('RS512');
  const now = Math.floor(Date.now() / 1000);
  const assertion = await new SignJWT({})
    .setProtectedHeader({ alg: 'RS512', kid: KID })
    .setIssuer(BROKER).setSubject(BROKER).setAudience(discovery.token_endpoint)
    .setJti(randomUUID()).setIssuedAt(now).setExpirationTime(now + 300)
    .sign(privateKey);
  const res = await fetch(discovery.token_endpoint, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'authorization_code', code, redirect_uri: REDIRECT_URI, code_verifier: auth.verifier,
      client_id: BROKER,
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
    }),
  });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error, 'invalid_client');
});

await check('aal2-nurse asking AAL3_ANY is refused with access_denied and the state', async () => {
  const auth = await authorize(browser(), { login: 'aal2-nurse', acr: 'AAL3_ANY' });
  assert.equal(auth.status, 303, JSON.stringify(auth));
  assert.equal(auth.location.searchParams.get('error'), 'access_denied');
  assert.equal(auth.location.searchParams.get('state'), auth.state);
  assert.equal(auth.location.searchParams.get('code'), null);
});

await check('aal2-nurse asking AAL2_ANY signs in at level 2', async () => {
  const tokens = await signInBroker(browser(), 'aal2-nurse', 'AAL2_ANY');
  const { payload } = await jwtVerify(tokens.id_token, jwks, { issuer, audience: BROKER });
  assert.equal(payload.authentication_assurance_level, '2');
  assert.equal(payload.acr, 'AAL2_ANY');
  assert.deepEqual(payload.amr, ['PWD', 'OTP']);
  assert.equal(payload.nonce, tokens.nonce);
});

await check('an AAL2 session is not reused for AAL3_ANY without prompt=login', async () => {
  const navigate = browser();
  await signInBroker(navigate, 'aal2-nurse', 'AAL2_ANY');
  const auth = await authorize(navigate, { acr: 'AAL3_ANY', prompt: null });
  assert.equal(auth.status, 200, 'expected the sign-in page, not a code');
  assert.match(auth.body, /Development sign-in/);
});

await check('prompt=login signs in again (another user in the same browser)', async () => {
  const navigate = browser();
  const first = await signInBroker(navigate, 'ed-nurse', 'AAL3_ANY');
  const second = await signInBroker(navigate, 'two-roles', 'AAL3_ANY');
  assert.equal(decodeJwt(first.id_token).sub, '900000000001');
  const again = decodeJwt(second.id_token);
  assert.equal(again.sub, '900000000007');
  assert.equal(again.selected_roleid, '555000000702');
});

await check('no-role has no selected_roleid and empty roles at userinfo', async () => {
  const tokens = await signInBroker(browser(), 'no-role', 'AAL3_ANY');
  assert.equal(decodeJwt(tokens.id_token).selected_roleid, undefined);
  const info = await userinfo(tokens.access_token);
  assert.deepEqual(info.json.nhsid_nrbac_roles, []);
  assert.equal(info.json.selected_roleid, undefined);
});

await check('test hook tampers the broker ID token (wrong_audience, alg_none)', async () => {
  for (const [mode, test] of [
    ['wrong_audience', (t) => assert.equal(decodeJwt(t).aud, 'some-other-client')],
    ['alg_none', (t) => assert.equal(decodeProtectedHeader(t).alg, 'none')],
    ['alg_hs256', (t) => assert.equal(decodeProtectedHeader(t).alg, 'HS256')],
  ]) {
    const res = await fetch(`${issuer}/test/tamper-next-id-token`, { method: 'POST', body: new URLSearchParams({ mode }) });
    assert.equal(res.status, 204);
    const tokens = await signInBroker(browser(), 'ed-nurse', 'AAL3_ANY');
    test(tokens.id_token);
  }
});

await check('cpis-broker is the only client: no public clients, no resource indicators', async () => {
  assert.deepEqual(discovery.token_endpoint_auth_methods_supported, ['private_key_jwt']);
  assert.ok(!discovery.scopes_supported.includes('offline_access'));
  const auth = await authorize(browser(), { clientId: 'cpis-viewer', login: 'ed-nurse', acr: 'AAL3_ANY' });
  assert.equal(auth.location, undefined, 'an unknown client must not be redirected to');
  assert.equal(auth.status, 400, JSON.stringify(auth));
  assert.match(auth.body, /invalid_client/);
  const res = await fetch(discovery.token_endpoint, {
    method: 'POST',
    body: new URLSearchParams({ grant_type: 'authorization_code', code: 'x', redirect_uri: REDIRECT_URI, code_verifier: 'x', client_id: 'cpis-viewer' }),
  });
  assert.equal(res.status, 401);
  assert.equal((await res.json()).error, 'invalid_client');
});

child?.kill();
