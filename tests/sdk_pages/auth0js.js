// auth0.js v9 as 8base's WebAuth0AuthClient creates it (packages/core/web-auth0-auth-client in 8base/sdk):
// clientID, responseType 'token id_token', scope 'openid email profile', plus the app's own domain and
// redirectUri. A sandbox on http://localhost needs auth0.js's documented overrides for the issuer it expects.
(async function () {
  'use strict';
  const page = window.labPage;
  const config = await page.config();
  const here = location.origin + location.pathname;
  const options = {
    domain: config.idp_url.replace(/\/$/, ''),  // auth0.js keeps a domain that starts with http as its root URL
    clientID: config.client_id,
    redirectUri: here,
    responseType: 'token id_token',
    scope: 'openid email profile',
    overrides: {__token_issuer: config.idp_url, __jwks_uri: config.idp_url + '.well-known/jwks.json'},
  };
  const webAuth = new auth0.WebAuth(options);
  page.show('new auth0.WebAuth(options) as 8base\'s WebAuth0AuthClient',
            {clientID: options.clientID, responseType: options.responseType, scope: options.scope});
  const promised = (call) => new Promise((resolve, reject) => call((error, result) => (error ? reject(error) : resolve(result))));
  const summary = (result) => ({idToken: result.idToken, accessToken: result.accessToken, expiresIn: result.expiresIn,
                                tokenType: result.tokenType, email: result.idTokenPayload.email,
                                sub: result.idTokenPayload.sub});

  window.lab = {
    ready: true,
    authorize: () => page.wrap('authorize()', async () => webAuth.authorize()),
    parseHash: () => page.wrap('parseHash(): the fragment, checked in the page', async () => {
      page.show('the URL fragment the identity provider sent (names)', location.hash.slice(1).split('&').map((p) => p.split('=')[0]), true);
      return summary(await promised((cb) => webAuth.parseHash(cb)));
    }),
    checkSession: () => page.wrap('checkSession(): prompt=none in a hidden iframe',
                                  async () => summary(await promised((cb) => webAuth.checkSession({}, cb)))),
    graphql: (token, label) => page.wrap('GraphQL { user { email } } with the ' + label,
                                         () => page.graphql(config.api_url, token), true),
    logout: () => page.wrap('logout()', async () => webAuth.logout({returnTo: here})),
  };
  document.getElementById('authorize').onclick = () => window.lab.authorize();
  document.getElementById('check-session').onclick = () => window.lab.checkSession();
  document.getElementById('logout').onclick = () => window.lab.logout();
})();
