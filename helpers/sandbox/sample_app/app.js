// The sample single-page app of Auth Flows Lab: every step of a browser login, written out by hand.
//
// Flows (each a button in index.html):
//   * authorization code + PKCE, through the hosted login page (RFC 6749 §4.1, RFC 7636), optionally
//     straight to a social connection (Auth0's `connection` parameter);
//   * implicit, `response_type=token id_token` with a nonce, tokens in the URL fragment: what the 8base SDK
//     does through auth0.js v9 (OIDC Core §3.2);
//   * silent renewal: `prompt=none` in a hidden iframe, answered with `response_mode=web_message`
//     (a postMessage to this page), using the identity provider's login session cookie;
//   * logout at the identity provider (`/v2/logout`, Auth0's endpoint).
// After a login the app calls the GraphQL API with the ID token, as 8base apps do.
//
// Where the tokens live: in a variable of this module only (not localStorage): a reload forgets them, and the
// silent renewal gets new ones while the identity provider's session lasts.

const SCOPE = "openid profile email";
const USER_QUERY = "query CurrentUser { user { id email firstName lastName } }";
const SIGN_UP = `mutation SignUp($authProfileId: ID, $user: UserCreateInput!) {
  userSignUpWithToken(authProfileId: $authProfileId, user: $user) { id email firstName lastName }
}`;
const LEEWAY_SECONDS = 60; // clock skew tolerated when reading exp (auth0.js uses 60 s by default)

let config = null;   // from /config.json: where the identity provider and the API are, our client_id, our URLs
let session = null;  // {idToken, accessToken, claims, flow} after a login

// ------------------------------------------------------------------ small tools
const $ = (id) => document.getElementById(id);

/** base64url without padding (RFC 4648 §5), the encoding of PKCE values and JWT parts. */
function base64url(bytes) {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A random string from the browser's cryptographic generator: 32 bytes give 43 characters. */
function randomString(bytes = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** PKCE S256: code_challenge = BASE64URL(SHA-256(code_verifier)) (RFC 7636 §4.2), with WebCrypto. */
async function s256(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

/** at_hash = BASE64URL(left half of SHA-256(access_token)) (OIDC Core §3.2.2.9, for RS256): it ties the
 *  access token that came in the same URL fragment to the (signed) ID token. */
async function atHash(accessToken) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken));
  return base64url(new Uint8Array(digest).slice(0, 16));
}

/** The claims of a JWT, read (not verified: the GraphQL API verifies the signature before it trusts one). */
function readClaims(jwt) {
  const payload = jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

class LoginError extends Error {
  constructor(code, description) {
    super(`${code}: ${description}`);
    this.code = code;
    this.description = description;
  }
}

function step(text) {
  const item = document.createElement("li");
  item.textContent = text;
  $("steps").append(item);
}

// ------------------------------------------------------------------ the login transaction
// What the app must remember between leaving for the identity provider and coming back: the state (CSRF
// protection, RFC 6749 §10.12), the nonce (replay protection, OIDC Core §3.1.2.1) and the PKCE verifier.
// sessionStorage survives the redirect and belongs to this tab and this origin only.

function saveTransaction(state, transaction) {
  sessionStorage.setItem("login:" + state, JSON.stringify(transaction));
}

/** The transaction sent with this state, removed as it is read: a state is good for one answer only. */
function takeTransaction(state) {
  const key = "login:" + state;
  const saved = state ? sessionStorage.getItem(key) : null;
  sessionStorage.removeItem(key);
  return saved ? JSON.parse(saved) : null;
}

function authorizeUrl(params) {
  const url = new URL("authorize", config.idp_url);
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined) url.searchParams.set(name, value);
  }
  return url.toString();
}

// ------------------------------------------------------------------ 1. authorization code + PKCE
async function loginWithCode(connection) {
  const verifier = randomString();         // the secret this tab keeps
  const challenge = await s256(verifier);  // what the identity provider sees now
  const state = randomString(16);
  const nonce = randomString(16);
  const flow = connection ? `authorization code + PKCE (${connection})` : "authorization code + PKCE";
  saveTransaction(state, {flow, verifier, nonce});
  // Leave for the hosted login page. The identity provider sends the browser back to redirect_uri with
  // ?code=...&state=... once the user has logged in (or at once if its session cookie says who they are).
  window.location.assign(authorizeUrl({
    response_type: "code", client_id: config.client_id, redirect_uri: config.redirect_uri, scope: SCOPE,
    state, nonce, code_challenge: challenge, code_challenge_method: "S256", connection,
  }));
}

/** The token request: cross-origin, with a JSON body (as auth0.js sends it), so the browser sends a CORS
 *  preflight first. A form-encoded body would be a "simple" request without one; CORS would still decide
 *  whether this page may read the answer. */
async function exchangeCode(code, verifier) {
  const response = await fetch(new URL("oauth/token", config.idp_url), {
    method: "POST",
    headers: {"Content-Type": "application/json"},
    body: JSON.stringify({
      grant_type: "authorization_code", client_id: config.client_id, code, code_verifier: verifier,
      redirect_uri: config.redirect_uri,  // the same string as in /authorize (RFC 6749 §4.1.3)
    }),
  });
  const body = await response.json();
  if (!response.ok) throw new LoginError(body.error, body.error_description);
  step("Exchanged the code and the PKCE verifier at /oauth/token (a cross-origin POST, preflighted).");
  return {idToken: body.id_token, accessToken: body.access_token};
}

// ------------------------------------------------------------------ 2. implicit (the 8base SDK's way)
function loginImplicit() {
  const state = randomString(16);
  const nonce = randomString(16);  // required: the only link between this request and the ID token
  saveTransaction(state, {flow: "implicit (token id_token)", nonce, implicit: true});
  window.location.assign(authorizeUrl({
    response_type: "token id_token", client_id: config.client_id, redirect_uri: config.redirect_uri,
    scope: SCOPE, state, nonce,  // response_mode defaults to fragment: #id_token=...&access_token=...
  }));
}

// ------------------------------------------------------------------ back from the identity provider
async function handleCallback() {
  // The answer is in the query (code flow) or in the fragment (implicit): the fragment never reaches a server.
  const query = new URLSearchParams(window.location.search);
  const fragment = new URLSearchParams(window.location.hash.slice(1));
  const answer = query.has("state") || query.has("error") ? query : fragment;
  history.replaceState(null, "", "/");  // take the code or the tokens out of the address bar and history
  const transaction = takeTransaction(answer.get("state"));
  if (transaction === null) {  // a forged or replayed answer (CSRF protection)
    throw new LoginError("mismatching_state", "CSRF Warning! State not equal in request and response.");
  }
  step(`Back from the identity provider; the state matches the one sent (${transaction.flow}).`);
  if (answer.has("error")) throw new LoginError(answer.get("error"), answer.get("error_description"));
  let tokens;
  if (answer.has("code")) {
    tokens = await exchangeCode(answer.get("code"), transaction.verifier);
  } else {
    tokens = {idToken: answer.get("id_token"), accessToken: answer.get("access_token")};
    step("Read the ID token and the access token from the URL fragment.");
  }
  await startSession(tokens, transaction);
}

/** Check the ID token's claims against what this tab asked for, keep it, and ask the API who we are.
 *  The error codes and sentences are those of the lab's error catalog (data/error_catalog.csv, client-*).
 *  (OIDC Core §3.1.3.7: iss, aud, exp, nonce. The signature is checked by the GraphQL API, the only
 *  party that acts on the token; an app that itself trusted claims would have to verify it too.) */
async function startSession(tokens, transaction) {
  const claims = readClaims(tokens.idToken);
  const now = Date.now() / 1000;
  if (claims.iss !== config.idp_url) {
    throw new LoginError("bad_issuer", "The token was issued by an issuer this verifier does not trust.");
  }
  if (claims.aud !== config.client_id) {
    throw new LoginError("bad_audience", "The token was issued for another audience.");
  }
  if (claims.exp + LEEWAY_SECONDS < now) throw new LoginError("expired", "The token has expired.");
  if (claims.nonce !== transaction.nonce) {  // not the nonce this tab sent: a replayed or injected token
    throw new LoginError("bad_nonce", "The token's nonce does not match the one sent at login.");
  }
  // Implicit flow: at_hash is required and must match the access token (a swapped token fails here).
  // Code flow: the access token came straight from /oauth/token; at_hash is optional (checked if present).
  if ((transaction.implicit || claims.at_hash !== undefined) && claims.at_hash !== await atHash(tokens.accessToken)) {
    throw new LoginError("invalid_claim", "Invalid claim: 'at_hash'");
  }
  step(transaction.implicit ? "ID token checked: issuer, audience, expiry, nonce, and at_hash against the access token."
                            : "ID token checked: issuer, audience, expiry and the nonce this tab sent.");
  session = {...tokens, claims, flow: transaction.flow};
  await loadApiUser();
}

// ------------------------------------------------------------------ the GraphQL API, with the ID token
async function graphql(query, variables) {
  // Cross-origin POST with Authorization and JSON: the browser sends a preflight (OPTIONS) first, and sends
  // this request only if the API's answer names this page's origin.
  const response = await fetch(config.api_url, {
    method: "POST",
    headers: {"Content-Type": "application/json", "Authorization": "Bearer " + session.idToken},
    body: JSON.stringify({query, variables}),
  });
  return response.json();
}

async function loadApiUser() {
  const answer = await graphql(USER_QUERY);
  showApiAnswer(answer.data && answer.data.user, answer.errors);
  step(answer.errors ? `GraphQL API answered ${answer.errors[0].code}.` : "GraphQL API answered with the user.");
}

async function signUp() {
  const email = session.claims.email;
  const answer = await graphql(SIGN_UP, {authProfileId: config.auth_profile_id, user: {email}});
  showApiAnswer(answer.data && answer.data.userSignUpWithToken, answer.errors);
  step(answer.errors ? `Sign-up refused: ${answer.errors[0].code}.` : "Signed up in the GraphQL API.");
}

function showApiAnswer(user, errors) {
  const absent = Boolean(errors && errors[0].code === "UserNotFoundError");
  $("api-user").hidden = !user;
  $("api-absent").hidden = !absent;
  if (user) {
    $("api-user-id").textContent = user.id;
    $("api-user-email").textContent = user.email;
    $("api-user-name").textContent = [user.firstName, user.lastName].filter(Boolean).join(" ") || "(none)";
  } else if (errors && !absent) {
    showError(errors[0].code, errors[0].message);
  }
}

// ------------------------------------------------------------------ 3. silent renewal (prompt=none)
/** New tokens without leaving the page: /authorize in a hidden iframe with prompt=none. The identity
 *  provider sees its login session cookie (sent because this page and it are the same *site*: localhost;
 *  ports do not count) and answers with a postMessage (response_mode=web_message) to this origin, which must be
 *  one of the app's Allowed Web Origins. No session: the answer is error=login_required, never a login page.
 *  From another site the sandbox's SameSite=Lax cookie stays home (login_required again); Auth0's session
 *  cookie is SameSite=None for that reason, with a fallback cookie for browsers that do not know None
 *  (https://auth0.com/docs/manage-users/cookies/authentication-api-cookies). */
async function renewSilently() {
  const verifier = randomString();
  const state = randomString(16);
  const nonce = randomString(16);
  const url = authorizeUrl({
    response_type: "code", response_mode: "web_message", prompt: "none", client_id: config.client_id,
    redirect_uri: config.redirect_uri, scope: SCOPE, state, nonce,
    code_challenge: await s256(verifier), code_challenge_method: "S256",
  });
  const answer = await new Promise((resolve, reject) => {
    const frame = document.createElement("iframe");
    frame.hidden = true;
    frame.title = "silent renewal";
    const done = () => { window.removeEventListener("message", onMessage); clearTimeout(timer); frame.remove(); };
    const timer = setTimeout(() => { done(); reject(new LoginError("timeout", "No answer from the identity provider.")); }, 10000);
    function onMessage(event) {
      // Accept only the identity provider's own message about this very request.
      if (event.origin !== new URL(config.idp_url).origin) return;
      if (!event.data || event.data.type !== "authorization_response") return;
      if (!event.data.response || event.data.response.state !== state) return;
      done();
      resolve(event.data.response);
    }
    window.addEventListener("message", onMessage);
    frame.src = url;
    document.body.append(frame);
  });
  step("Asked the identity provider silently (prompt=none in a hidden iframe, answer by postMessage).");
  if (answer.error) throw new LoginError(answer.error, answer.error_description);
  const tokens = await exchangeCode(answer.code, verifier);
  await startSession(tokens, {flow: "silent renewal (prompt=none, web_message)", nonce});
}

// ------------------------------------------------------------------ 4. logout
function logout() {
  session = null;
  sessionStorage.clear();
  // Ends the identity provider's session (its cookie) too; returnTo must be an Allowed Logout URL.
  const url = new URL("v2/logout", config.idp_url);
  url.searchParams.set("client_id", config.client_id);
  url.searchParams.set("returnTo", config.logout_return_to);
  window.location.assign(url.toString());
}

// ------------------------------------------------------------------ the page
function showError(code, description) {
  $("error").hidden = false;
  $("error-code").textContent = code;
  $("error-description").textContent = description || "";
}

function render() {
  const loggedIn = session !== null;
  $("status").textContent = loggedIn ? `Logged in as ${session.claims.email}.` : "You are not logged in.";
  $("profile").hidden = !loggedIn;
  if (loggedIn) {
    const iso = (seconds) => new Date(seconds * 1000).toISOString().replace(".000Z", "Z");
    $("profile-email").textContent = session.claims.email;
    $("profile-name").textContent = session.claims.name;
    $("profile-sub").textContent = session.claims.sub;
    $("profile-flow").textContent = session.flow;
    $("profile-iat").textContent = iso(session.claims.iat);
    $("profile-exp").textContent = iso(session.claims.exp);
  }
  for (const button of document.querySelectorAll("#actions button")) button.disabled = false;
  $("logout").disabled = !loggedIn;
}

/** Run one action; show its error (OAuth error code and description) instead of failing silently. */
async function run(action) {
  $("error").hidden = true;
  try {
    await action();
  } catch (error) {
    if (error instanceof LoginError) showError(error.code, error.description);
    else showError("network_error", `${error.message} (a CORS refusal looks like this to a script)`);
  }
  render();
}

async function main() {
  config = await (await fetch("/config.json")).json();
  for (const connection of config.social_connections) {  // {name, display_name}: GitHub, Google
    const button = document.createElement("button");
    button.type = "button";
    button.id = "login-" + connection.name;
    button.textContent = `Log in with ${connection.display_name}`;
    button.addEventListener("click", () => run(() => loginWithCode(connection.name)));
    $("social-buttons").append(button);
  }
  $("login-code").addEventListener("click", () => run(() => loginWithCode()));
  $("login-implicit").addEventListener("click", () => run(loginImplicit));
  $("renew").addEventListener("click", () => run(renewSilently));
  $("logout").addEventListener("click", () => run(logout));
  $("signup").addEventListener("click", () => run(signUp));
  if (window.location.pathname === "/callback") await run(handleCallback);
  else render();
  document.body.dataset.ready = "true";  // for tests and screenshots: the page has settled
}

main();
