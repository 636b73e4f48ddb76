"""B4: ``POST /oauth/token`` (password-realm) against a bare Starlette JSON endpoint on the same uvicorn.

The IdP app is rebuilt here, in the benchmark only: ``create_idp_app``'s routes plus one extra
``Route("/bench/bare-json")``, served by the sandbox's own ``BackgroundServer`` (uvicorn in a daemon
thread, the notebook situation). The product is not changed for it.

Subject: the password-realm grant exactly as ``helpers.flows.password_realm`` sends it (JSON body, web
client secret in the body, scope ``openid profile email``): client authentication, the salted password
hash check, one RS256 ID token and one opaque access token.
Floor: the same JSON body POSTed to the bare route, which parses it and answers a small JSON object.
Both go through one ``requests.Session`` each and alternate call by call.
"""
from __future__ import annotations

import requests
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from helpers.flows import password_realm_body
from helpers.sandbox import Clock, KeyRing, create_idp_app, issuer_for, load_seed
from helpers.sandbox.common.server import BackgroundServer

from .common import Size, check
from .report import Result, Target
from .timing import latency_pair

BARE_PATH = "/bench/bare-json"


async def bare_json(request: Request) -> JSONResponse:
    """A bare JSON endpoint: read the JSON body, answer a small JSON object."""
    body = await request.json()
    return JSONResponse({"ok": True, "fields": len(body)})


def idp_with_bare_route(port: int) -> Starlette:
    """The sandbox IdP's routes and one bare JSON route, in one Starlette app."""
    idp_app = create_idp_app(issuer_for(port), load_seed(), Clock(), KeyRing())
    app = Starlette(routes=[*idp_app.routes, Route(BARE_PATH, bare_json, methods=["POST"])])
    app.state.idp = idp_app.state.idp
    return app


def run(size: Size) -> list[Result]:
    server = BackgroundServer(idp_with_bare_route).start()
    try:
        idp = server.app.state.idp
        user = next(u for u in idp.seed.users if u.connection == idp.seed.database_connection.name)
        web = idp.seed.client_of_type("regular_web")
        body = password_realm_body(web.client_id, web.client_secret, user.email, user.password,
                                   idp.seed.database_connection.name)
        token_url = idp.issuer + "oauth/token"
        bare_url = idp.issuer + BARE_PATH.lstrip("/")
        s_session, f_session = requests.Session(), requests.Session()
        answer = s_session.post(token_url, json=body, timeout=30)
        check(answer.status_code == 200 and "id_token" in answer.json(), f"B4: the grant failed: {answer.text}")
        check(f_session.post(bare_url, json=body, timeout=30).json()["ok"] is True, "B4: the bare route failed")

        def subject() -> None:
            if s_session.post(token_url, json=body, timeout=30).status_code != 200:
                raise RuntimeError("the token endpoint refused the grant")

        def floor() -> None:
            if f_session.post(bare_url, json=body, timeout=30).status_code != 200:
                raise RuntimeError("the bare route failed")

        paired = latency_pair(subject, floor, rounds=size.pick(7, 3), per_round=size.pick(200, 60), warmup=50)
        s_session.close()
        f_session.close()
    finally:
        server.stop()
    return [Result("B4", "/oauth/token password-realm vs bare Starlette JSON route, same uvicorn, p50",
                   paired.value, paired.floor_value, "ms", paired.ratio, Target("<=", 1.6), len(paired.subject),
                   paired.spread)]

