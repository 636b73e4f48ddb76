"""helpers/wire.py: raw HTTP printed with run-to-run noise masked, and a browser's hops, names only."""
from __future__ import annotations

import requests

from helpers.flows import HttpExchange
from helpers.wire import hops, mask, where, wire

ISSUER = "http://localhost:4000/"


def exchange(url: str, status: int = 302, location: str = "", body: str = "") -> HttpExchange:
    headers = {"location": location, "date": "Mon, 02 Mar 2026 09:00:00 GMT"} if location else {}
    return HttpExchange("GET", url, {}, None, status, headers, body)


def test_mask_hides_dates_state_nonce_and_shortened_random_strings_but_not_jwts():
    text = ("date: Mon, 02 Mar 2026 09:00:00 GMT\nstate=" + "a" * 22 + "&nonce=" + "b" * 22 + "\n"
            'name="state" value="' + "c" * 32 + '"\ncode=' + "d" * 22 + "\nrefresh_token: Zx_9-abcdefg…\n"
            "id_token: eyJhbGciOiJ…")
    masked = mask(text)
    assert "date: <date>" in masked and "state=<state>&nonce=<nonce>" in masked
    assert 'value="<login-transaction>"' in masked and "code=<github-code>" in masked
    assert "refresh_token: <random>…" in masked and "id_token: eyJhbGciOiJ…" in masked


def test_mask_leaves_values_of_other_lengths_alone():
    assert mask("state=short&nonce=" + "x" * 30) == "state=short&nonce=" + "x" * 30


def test_where_shows_parameter_names_only_and_the_host_only_when_it_is_foreign():
    assert where(ISSUER + "authorize?client_id=spa&state=s3cr3t", ISSUER) == "/authorize?client_id & state"
    assert where("http://localhost:3000/callback#access_token=x&id_token=y", ISSUER) == \
        "http://localhost:3000/callback#access_token & id_token"
    assert where("", ISSUER) == ""


def test_hops_lists_each_request_and_its_redirect_relative_to_the_first_host():
    table = hops([exchange(ISSUER + "authorize?state=x", location="/u/login?state=y"),
                  exchange(ISSUER + "u/login?state=y", status=200)])
    assert list(table.columns) == ["method", "request", "status", "redirects to"]
    assert table.to_dict("records") == [
        {"method": "GET", "request": "/authorize?state", "status": 302, "redirects to": "/u/login?state"},
        {"method": "GET", "request": "/u/login?state", "status": 200, "redirects to": ""}]
    assert hops([]).empty


def test_wire_prints_an_exchange_or_a_response_masked(capsys):
    wire(exchange(ISSUER + "authorize", location="http://localhost:3000/cb?state=" + "s" * 22))
    printed = capsys.readouterr().out
    assert printed.startswith("GET /authorize") and "state=<state>" in printed and "<date>" in printed
    response = requests.Response()
    response.status_code, response._content, response.url = 200, b"{}", ISSUER + "userinfo"
    response.headers["Date"] = "Mon, 02 Mar 2026 09:00:00 GMT"
    response.request = requests.Request("GET", ISSUER + "userinfo").prepare()
    wire(response)
    printed = capsys.readouterr().out
    assert "GET /userinfo" in printed and "HTTP/1.1 200" in printed and "GMT" not in printed
