// A standards-conformant OpenID Connect provider for the tests: panva's node-oidc-provider (npm
// "oidc-provider", pinned in package.json), wrapped by this launcher. Nothing here changes how the
// provider speaks the protocol; the launcher only supplies what every deployment must supply: a
// signing key, clients, one test user, a login page and the port.
//
//   node tests/oidc_provider/server.mjs SETTINGS.json
//
// SETTINGS: {"mode": "defaults" | "resource", "redirect_uri": "...", "resource": "https://...",
//            "user": {"email", "password", "name"}}
// It listens on an ephemeral loopback port and prints one JSON line: {"issuer", "spa_client_id", ...}.
//
// "defaults": the provider's own defaults for tokens: opaque access tokens for /userinfo and scope
//   claims (email, profile) only in /userinfo when an access token is issued (OIDC Core §5.4).
// "resource": resource indicators (RFC 8707): a token request naming SETTINGS.resource gets a JWT
//   access token (RFC 9068) for it; the M2M client may use the client credentials grant for it.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const settings = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const withResource = settings.mode === 'resource';
const user = { sub: 'lab-user-1', ...settings.user };

// RFC 7517 makes "alg" and "use" optional in a JWK: the key is published without either.
const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
signingKey.kid = randomBytes(8).toString('hex');

const html = (title, body) => `<!doctype html><meta charset="utf-8"><title>${title}</title>${body}`;
const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, message = '') {
  return html('Sign in', `<h1>Sign in</h1>${message ? `<p id="error-message">${escape(message)}</p>` : ''}
<form id="login-form" method="post" action="/interaction/${escape(uid)}/login">
<label>Email <input name="username" type="email" autofocus></label>
<label>Password <input name="password" type="password"></label>
<button type="submit" name="action" value="login">Continue</button></form>`);
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10000) break;
  }
  return Object.fromEntries(new URLSearchParams(body));
}

function configuration(issuer) {
  const clients = [
    { client_id: 'lab-spa', token_endpoint_auth_method: 'none', redirect_uris: [settings.redirect_uri],
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
    { client_id: 'lab-web', client_secret: settings.web_client_secret, redirect_uris: [settings.redirect_uri],
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'] },
  ];
  const features = {
    devInteractions: { enabled: false },
    claimsParameter: { enabled: true }, // OIDC Core §5.5: ask for email in the ID token
    rpInitiatedLogout: { enabled: true },
  };
  if (withResource) {
    clients.push({ client_id: 'lab-m2m', client_secret: settings.m2m_client_secret, redirect_uris: [],
      grant_types: ['client_credentials'], response_types: [] });
    features.clientCredentials = { enabled: true };
    features.resourceIndicators = {
      enabled: true,
      async getResourceServerInfo(_ctx, indicator) {
        if (indicator !== settings.resource) throw new Provider.errors.InvalidTarget();
        return { scope: 'read:notes', audience: settings.resource, accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } } };
      },
    };
  }
  return {
    clients,
    features,
    jwks: { keys: [signingKey] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, sub) {
      if (sub !== user.sub) return undefined;
      return { accountId: sub,
        async claims() { return { sub, email: user.email, email_verified: true, name: user.name }; } };
    },
    // refresh tokens for clients allowed the grant (the default also wants the offline_access scope)
    async issueRefreshToken(_ctx, client) { return client.grantTypeAllowed('refresh_token'); },
  };
}

async function interaction(provider, req, res) {
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session, uid } = details;
  if (prompt.name === 'login') {
    if (req.method !== 'POST') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(loginPage(uid));
      return;
    }
    const form = await readForm(req);
    if (form.username !== user.email || form.password !== user.password) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
        .end(loginPage(uid, 'Wrong email or password.'));
      return;
    }
    await provider.interactionFinished(req, res, { login: { accountId: user.sub } }, { mergeWithLastSubmission: false });
    return;
  }
  // consent: the test user grants everything the first-party client asks for
  const grant = details.grantId ? await provider.Grant.find(details.grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const missing = prompt.details;
  if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes || {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const server = createServer();
server.listen(0, '127.0.0.1', () => {
  const issuer = `http://127.0.0.1:${server.address().port}`;
  const provider = new Provider(issuer, configuration(issuer));
  const handle = provider.callback();
  server.on('request', (req, res) => {
    if (!req.url.startsWith('/interaction/')) {
      handle(req, res);
      return;
    }
    interaction(provider, req, res).catch((error) => {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8' })
        .end(html('Error', `<p id="error-code">${escape(error.error || 'interaction_failed')}</p>`
          + `<p id="error-description">${escape(error.error_description || 'The login could not go on.')}</p>`));
    });
  });
  process.stdout.write(`${JSON.stringify({ issuer, spa_client_id: 'lab-spa', web_client_id: 'lab-web',
    m2m_client_id: withResource ? 'lab-m2m' : null, resource: withResource ? settings.resource : null })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
