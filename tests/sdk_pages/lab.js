// Shared by the SDK test pages: the page's facts, a step log on screen, and the GraphQL call.
// Every SDK call is wrapped so that the test (and the screenshot) sees {ok, result | error}.
window.labPage = (function () {
  'use strict';
  const steps = () => document.getElementById('steps');

  function kind(token) {  // on screen a token shows its form, never its value (the picture stays the same)
    const parts = token.split('.').length;
    if (parts === 3 && token.startsWith('eyJ')) return '<JWT: header.payload.signature>';
    if (parts === 5 && token.startsWith('eyJ')) return '<JWE: 5 parts, encrypted>';
    return '<opaque string>';
  }

  function short(value, compact) {
    const hide = (key, v) => (typeof v === 'string' && /token/i.test(key) && v.length > 20 && !/\s/.test(v) ? kind(v) : v);
    return JSON.stringify(value, hide, compact ? 0 : 2);
  }

  function show(title, value, compact) {
    const item = document.createElement('li');
    const head = document.createElement('strong');
    head.textContent = title;
    const body = document.createElement('pre');
    body.textContent = value === undefined ? '' : short(value, compact);
    item.append(head, body);
    steps().append(item);
  }

  async function wrap(title, action, compact) {
    try {
      const result = await action();
      show(title, result, compact);
      return {ok: true, result: result === undefined ? null : result};
    } catch (error) {
      const described = {error: error.error || error.name || 'Error',
                         error_description: error.error_description || error.errorDescription ||
                                            error.description || error.message || String(error)};
      show(title + ' failed', described);
      return {ok: false, error: described};
    }
  }

  async function graphql(apiUrl, token) {  // what 8base's SDK sends: the token as a Bearer credential
    const response = await fetch(apiUrl, {
      method: 'POST',
      headers: {'Content-Type': 'application/json', 'Authorization': 'Bearer ' + token},
      body: JSON.stringify({query: '{ user { email } }'}),
    });
    return response.json();
  }

  async function config() {
    const response = await fetch('/config.json');
    return response.json();
  }

  return {show, wrap, graphql, config};
})();
