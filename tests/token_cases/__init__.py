"""The JWT security catalog (shared/reference/jwt-security-cases.md §1.1-1.5) against the sandbox GraphQL API.

The support of the ``tests/test_api_token_*.py`` files, one file per family of the catalog (SIG, HDR, CLM,
ENC, TRN). Each holds one table, ``CASES``: each record names a catalog case (``SIG-02``, or ``CLM-03-C04``
for a sub-variant), says in one line what it tries, how to send it, and what the answer must be. One
parametrized test per file runs it with :func:`tests.token_cases.runner.run_case`.

- ``world``: the catalog's section-0 names bound to a sandbox (``World``), outcomes, raw HTTP;
- ``sending``: how a case is sent, and the token builders several families use;
- ``answers``: the expected answers and the ``Case`` record;
- ``runner``: the one test body and the hygiene every answer is held to.

How a case is sent:

- ``bearer(build)``: ``POST api_url`` with ``Authorization: Bearer <build(w)>`` over a raw socket;
- ``auth(build)``: the same, with the whole ``Authorization`` value(s) chosen by the case (odd bytes, two headers);
- ``custom(send)``: a request of the case's own making (query string, body token, GET, CORS preflight);
- ``verifier(build, ...)``: ``helpers.verify.verify_token`` called directly, for what the API's fixed
  configuration cannot produce (a misconfigured verifier, a single-key JWKS, ``None``/``bytes`` tokens);
- ``static(check)``: a check on the project's code or keys.

Tokens are built by hand with base64url exactly as in the catalog's section 0 (``World.craft``), never with
``jwt.encode``. ``World`` binds the catalog's names (ISS, CID, KID, KEY, NOW, GOOD, h, p, s...) to the sandbox:
ISS is the sandbox issuer, KEY its current signing key, NOW the sandbox clock, frozen for each case.

Every HTTP answer is also held to TRN-13 (no ``Traceback``, no echo of the token or of attacker-chosen
header text, no PEM) and TRN-14 (never a 5xx); every verifier verdict must be a ``TokenRejected`` with a
catalogued code, never another exception.
"""
