// auth0-spa-js v2 as its README configures it. ?refresh=1 turns on useRefreshTokens (the refresh_token grant,
// with rotation on the application), else getTokenSilently renews through a hidden iframe (prompt=none).
(async function () {
  'use strict';
  const page = window.labPage;
  const config = await page.config();
  const here = location.origin + location.pathname;
  const useRefreshTokens = new URLSearchParams(location.search).get('refresh') === '1';
  const client = new auth0.Auth0Client({
    domain: config.idp_url.replace(/\/$/, ''),  // a domain with its scheme is kept (http for the sandbox)
    clientId: config.client_id,
    authorizationParams: {redirect_uri: here + (useRefreshTokens ? '?refresh=1' : '')},
    useRefreshTokens,
  });
  const tokens = async () => {
    const claims = await client.getIdTokenClaims();
    return claims ? {idToken: claims.__raw, email: claims.email, iat: claims.iat} : null;
  };

  window.lab = {
    ready: true,
    useRefreshTokens,
    loginWithRedirect: () => page.wrap('loginWithRedirect()', () => client.loginWithRedirect()),
    handleRedirectCallback: () => page.wrap('handleRedirectCallback(): code + PKCE exchanged', async () => {
      await client.handleRedirectCallback();
      history.replaceState(null, '', here + (useRefreshTokens ? '?refresh=1' : ''));  // the code out of the address bar
      return tokens();
    }),
    loginWithPopup: () => page.wrap('loginWithPopup()', async () => {
      await client.loginWithPopup();
      return tokens();
    }),
    getTokenSilently: () => page.wrap('getTokenSilently({cacheMode: "off"})', async () => {
      const answer = await client.getTokenSilently({cacheMode: 'off', detailedResponse: true});
      return {accessToken: answer.access_token, idToken: answer.id_token, email: (await tokens()).email};
    }),
    graphql: (token, label) => page.wrap('GraphQL { user { email } } with the ' + label,
                                         () => page.graphql(config.api_url, token), true),
    logout: () => page.wrap('logout()', () => client.logout({logoutParams: {returnTo: here}})),
  };
  document.getElementById('login-redirect').onclick = () => window.lab.loginWithRedirect();
  document.getElementById('login-popup').onclick = () => window.lab.loginWithPopup();
  document.getElementById('logout').onclick = () => window.lab.logout();
})();
