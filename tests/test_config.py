"""helpers.config: the sandbox by default, a real tenant from .env, discovery and its issuer check."""
from __future__ import annotations

import json
import os
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from helpers import config
from helpers.config import ConfigError, Target, discover, load_target, target_from_sandbox


# -------------------------------------------------------------------- a fake provider: discovery only
class _Discovery(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        self.server.requested.append(self.path)
        document = self.server.documents.get(self.path)
        if document is None:
            self.send_response(404)
            self.end_headers()
            return
        body = document.encode() if isinstance(document, str) else json.dumps(document).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def provider():
    """A local http.server that answers the discovery documents put in ``server.documents``."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Discovery)
    server.documents, server.requested = {}, []
    server.base = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def metadata(issuer: str, **extra) -> dict:
    base = issuer.rstrip("/")
    return {"issuer": issuer, "authorization_endpoint": base + "/authorize", "token_endpoint": base + "/oauth/token",
            "userinfo_endpoint": base + "/userinfo", "jwks_uri": base + "/.well-known/jwks.json", **extra}


def write_env(tmp_path, text: str):
    path = tmp_path / ".env"
    path.write_text(text)
    return path


AUTH0_KEYS = """
SPA_CLIENT_ID=spa-123
REDIRECT_URI=http://localhost:3000/callback
WEB_CLIENT_ID=web-456
WEB_CLIENT_SECRET=web-secret-value
M2M_CLIENT_ID=m2m-789
M2M_CLIENT_SECRET=m2m-secret-value
API_AUDIENCE=https://api.example.test/
GRAPHQL_URL=https://api.8base.test/ws1
AUTH_PROFILE_ID=profile-1
API_TOKEN=api-token-value
"""


# -------------------------------------------------------------------- the sandbox
def test_without_a_env_file_the_target_is_the_running_sandbox(sandbox, tmp_path, monkeypatch):
    monkeypatch.setattr(config, "DEFAULT_ENV_FILE", tmp_path / "absent" / ".env")
    target = load_target()
    assert target.kind == "sandbox"
    assert target.issuer == sandbox.idp_url and target.issuer.endswith("/")
    assert target.authorization_endpoint == sandbox.idp_url + "authorize"
    assert target.token_endpoint == sandbox.idp_url + "oauth/token"
    assert target.userinfo_endpoint == sandbox.idp_url + "userinfo"
    assert target.jwks_uri == sandbox.idp_url + ".well-known/jwks.json"
    assert target.logout_endpoint == sandbox.idp_url + "v2/logout"
    assert target.domain == sandbox.idp_domain
    assert ("ada@example.com", "ada-sandbox-pass") in target.users
    assert target.api_url == sandbox.api_url and target.auth_profile_id == sandbox.auth_profile_id


def test_target_from_sandbox_copies_clients_and_reads_endpoints_from_discovery(sandbox):
    target = target_from_sandbox(sandbox)
    document = requests.get(sandbox.idp_url + ".well-known/openid-configuration", timeout=5).json()
    assert target.token_endpoint == document["token_endpoint"] and target.jwks_uri == document["jwks_uri"]
    assert (target.spa_client_id, target.web_client_id, target.m2m_client_id) == (
        sandbox.spa_client_id, sandbox.web_client_id, sandbox.m2m_client_id)
    assert target.web_client_secret == sandbox.web_client_secret
    assert target.m2m_client_secret == sandbox.m2m_client_secret and target.api_token == sandbox.api_token
    assert target.audience == sandbox.api_audience and target.connection == "Username-Password-Authentication"
    assert target.redirect_uri == "http://localhost:3000/callback"
    assert isinstance(target.users, tuple) and all(isinstance(u, tuple) and len(u) == 2 for u in target.users)


def test_secrets_stay_out_of_the_repr(sandbox):
    target = target_from_sandbox(sandbox)
    text = repr(target)
    assert sandbox.spa_client_id in text and sandbox.idp_url in text
    for secret in (sandbox.web_client_secret, sandbox.m2m_client_secret, sandbox.api_token, "ada-sandbox-pass"):
        assert secret and secret not in text


def test_a_env_file_that_says_sandbox_ignores_the_tenant_keys(sandbox, tmp_path):
    path = write_env(tmp_path, "AUTH_FLOWS_TARGET=sandbox\nAUTH0_DOMAIN=tenant.example.test\nSPA_CLIENT_ID=x\n")
    target = load_target(path)
    assert target.kind == "sandbox" and target.issuer == sandbox.idp_url
    assert target.spa_client_id == sandbox.spa_client_id


def test_an_empty_env_file_means_the_sandbox(sandbox, tmp_path):
    assert load_target(str(write_env(tmp_path, "# nothing yet\n"))).issuer == sandbox.idp_url


def test_a_named_env_file_that_does_not_exist_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_target(tmp_path / "nope.env")


def test_an_unknown_target_kind_is_an_error(tmp_path):
    with pytest.raises(ConfigError, match="AUTH_FLOWS_TARGET.*'keycloak'.*sandbox, auth0, oidc"):
        load_target(write_env(tmp_path, "AUTH_FLOWS_TARGET=keycloak\n"))


# -------------------------------------------------------------------- auth0
def test_auth0_target_from_env_and_discovery(provider, tmp_path):
    issuer = provider.base + "/"
    provider.documents["/.well-known/openid-configuration"] = metadata(
        issuer, end_session_endpoint=provider.base + "/oidc/logout")
    path = write_env(tmp_path, f"AUTH_FLOWS_TARGET=auth0\nAUTH0_DOMAIN={provider.base}\n" + AUTH0_KEYS)
    target = load_target(path)
    assert provider.requested == ["/.well-known/openid-configuration"]
    assert target == Target(
        kind="auth0", issuer=issuer, authorization_endpoint=issuer + "authorize",
        token_endpoint=issuer + "oauth/token", userinfo_endpoint=issuer + "userinfo",
        jwks_uri=issuer + ".well-known/jwks.json", logout_endpoint=issuer + "v2/logout",
        spa_client_id="spa-123", web_client_id="web-456", web_client_secret="web-secret-value",
        m2m_client_id="m2m-789", m2m_client_secret="m2m-secret-value", audience="https://api.example.test/",
        connection="Username-Password-Authentication", redirect_uri="http://localhost:3000/callback",
        api_url="https://api.8base.test/ws1", auth_profile_id="profile-1", api_token="api-token-value", users=())
    text = repr(target)
    assert "web-secret-value" not in text and "m2m-secret-value" not in text and "api-token-value" not in text


def test_reading_env_never_touches_os_environ(provider, tmp_path):
    provider.documents["/.well-known/openid-configuration"] = metadata(provider.base + "/")
    before = dict(os.environ)
    load_target(write_env(tmp_path, f"AUTH_FLOWS_TARGET=auth0\nAUTH0_DOMAIN={provider.base}\n" + AUTH0_KEYS))
    assert dict(os.environ) == before and "AUTH0_DOMAIN" not in os.environ


def test_auth0_domain_becomes_an_https_issuer_with_a_trailing_slash():
    assert config._auth0_issuer("tenant.eu.auth0.com") == "https://tenant.eu.auth0.com/"
    assert config._auth0_issuer("https://tenant.eu.auth0.com/") == "https://tenant.eu.auth0.com/"
    assert config._auth0_issuer("http://localhost:8765") == "http://localhost:8765/"


def test_auth0_connection_key_overrides_the_default(provider, tmp_path):
    provider.documents["/.well-known/openid-configuration"] = metadata(provider.base + "/")
    path = write_env(tmp_path, f"AUTH_FLOWS_TARGET=auth0\nAUTH0_DOMAIN={provider.base}\nCONNECTION=lab-db\n"
                     "SPA_CLIENT_ID=spa\nREDIRECT_URI=http://localhost:3000/callback\n")
    target = load_target(path)
    assert target.connection == "lab-db"
    assert target.web_client_id is None and target.m2m_client_id is None and target.api_url is None


def test_discovery_issuer_must_match_byte_for_byte(provider, tmp_path):
    # the same host without the trailing slash is another issuer (Auth0's has the slash)
    provider.documents["/.well-known/openid-configuration"] = metadata(provider.base)
    path = write_env(tmp_path, f"AUTH_FLOWS_TARGET=auth0\nAUTH0_DOMAIN={provider.base}\n" + AUTH0_KEYS)
    with pytest.raises(ConfigError, match="identical") as caught:
        load_target(path)
    assert repr(provider.base) in str(caught.value) and repr(provider.base + "/") in str(caught.value)


def test_missing_keys_are_named_together(tmp_path):
    path = write_env(tmp_path, "AUTH_FLOWS_TARGET=auth0\nSPA_CLIENT_ID=spa\nREDIRECT_URI=\nM2M_CLIENT_ID=m2m\n")
    with pytest.raises(ConfigError) as caught:
        load_target(path)
    assert caught.value.missing == ("AUTH0_DOMAIN", "REDIRECT_URI", "M2M_CLIENT_SECRET", "API_AUDIENCE")
    assert "AUTH0_DOMAIN, REDIRECT_URI, M2M_CLIENT_SECRET, API_AUDIENCE" in str(caught.value)
    assert "M2M_CLIENT_ID is set, so set API_AUDIENCE too" in str(caught.value)
    assert not isinstance(caught.value, KeyError) and caught.value.__cause__ is None


def test_a_web_client_without_its_secret_is_missing_a_key(tmp_path):
    path = write_env(tmp_path, "AUTH_FLOWS_TARGET=oidc\nOIDC_ISSUER=https://idp.test/\nSPA_CLIENT_ID=spa\n"
                     "REDIRECT_URI=http://localhost:3000/callback\nWEB_CLIENT_ID=web\n")
    with pytest.raises(ConfigError) as caught:
        load_target(path)
    assert caught.value.missing == ("WEB_CLIENT_SECRET",)


def test_discovery_failures_are_config_errors(provider):
    with pytest.raises(ConfigError, match="HTTP 404"):
        discover(provider.base + "/")
    provider.documents["/.well-known/openid-configuration"] = "<html>not json</html>"
    with pytest.raises(ConfigError, match="JSON"):
        discover(provider.base + "/")
    provider.documents["/.well-known/openid-configuration"] = {"issuer": provider.base + "/"}
    with pytest.raises(ConfigError, match="authorization_endpoint, token_endpoint, jwks_uri"):
        discover(provider.base + "/")


def test_an_unreachable_issuer_is_a_config_error():
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(ConfigError, match="Cannot fetch"):
        discover(f"http://127.0.0.1:{port}/")


# -------------------------------------------------------------------- generic OpenID Connect
def test_oidc_target_uses_the_issuer_as_written_and_its_end_session_endpoint(provider, tmp_path):
    issuer = provider.base + "/realms/lab"  # no trailing slash: kept exactly
    provider.documents["/realms/lab/.well-known/openid-configuration"] = metadata(
        issuer, end_session_endpoint=issuer + "/protocol/openid-connect/logout")
    path = write_env(tmp_path, f"AUTH_FLOWS_TARGET=OIDC\nOIDC_ISSUER={issuer}\nSPA_CLIENT_ID=spa\n"
                     "REDIRECT_URI=http://localhost:3000/callback\n")
    target = load_target(path)
    assert target.kind == "oidc" and target.issuer == issuer
    assert target.token_endpoint == issuer + "/oauth/token"
    assert target.logout_endpoint == issuer + "/protocol/openid-connect/logout"
    assert target.users == () and target.audience is None


def test_oidc_target_without_end_session_endpoint_has_no_logout(provider, tmp_path):
    issuer = provider.base + "/"
    provider.documents["/.well-known/openid-configuration"] = metadata(issuer)
    path = write_env(tmp_path, f"AUTH_FLOWS_TARGET=oidc\nOIDC_ISSUER={issuer}\nSPA_CLIENT_ID=spa\n"
                     "REDIRECT_URI=http://localhost:3000/callback\n")
    assert load_target(path).logout_endpoint is None


def test_oidc_missing_issuer_is_named(tmp_path):
    with pytest.raises(ConfigError) as caught:
        load_target(write_env(tmp_path, "AUTH_FLOWS_TARGET=oidc\n"))
    assert caught.value.missing == ("OIDC_ISSUER", "SPA_CLIENT_ID", "REDIRECT_URI")


def test_every_known_key_is_documented_in_env_example():
    text = (config.DEFAULT_ENV_FILE.parent / ".env.example").read_text()
    assert [key for key in config.KNOWN_KEYS if f"{key}=" not in text] == []


def test_the_lab_user_becomes_the_targets_user_and_needs_its_password(provider, tmp_path):
    issuer = provider.base + "/"
    provider.documents["/.well-known/openid-configuration"] = metadata(issuer)
    base = (f"AUTH_FLOWS_TARGET=oidc\nOIDC_ISSUER={issuer}\nSPA_CLIENT_ID=spa\n"
            "REDIRECT_URI=http://localhost:3000/callback\nLAB_USER_EMAIL=tester@example.test\n")
    with pytest.raises(ConfigError) as caught:
        load_target(write_env(tmp_path, base))
    assert caught.value.missing == ("LAB_USER_PASSWORD",)
    target = load_target(write_env(tmp_path, base + "LAB_USER_PASSWORD=tester-pass-value\n"))
    assert target.users == (("tester@example.test", "tester-pass-value"),)
    assert "tester-pass-value" not in repr(target)


def test_env_example_documents_every_key():
    text = (config.DEFAULT_ENV_FILE.parent / ".env.example").read_text()
    for key in ("AUTH_FLOWS_TARGET", "AUTH0_DOMAIN", "OIDC_ISSUER", "SPA_CLIENT_ID", "WEB_CLIENT_ID",
                "WEB_CLIENT_SECRET", "M2M_CLIENT_ID", "M2M_CLIENT_SECRET", "API_AUDIENCE", "CONNECTION",
                "REDIRECT_URI", "GRAPHQL_URL", "AUTH_PROFILE_ID", "API_TOKEN", "LAB_USER_EMAIL", "LAB_USER_PASSWORD"):
        assert f"{key}=" in text, key


# -------------------------------------------------------------------- validation before any request
OIDC_BASE = "AUTH_FLOWS_TARGET=oidc\nOIDC_ISSUER=https://idp.test/\nSPA_CLIENT_ID=spa\nREDIRECT_URI=http://localhost:3000/callback\n"


def refused(tmp_path, text: str) -> ConfigError:
    """The ConfigError that load_target raises for this .env text (it must raise one, before any request)."""
    with pytest.raises(ConfigError) as caught:
        load_target(write_env(tmp_path, text))
    assert caught.value.__cause__ is None and "Traceback" not in str(caught.value)
    return caught.value


@pytest.mark.parametrize("domain, hint", [
    ("your-tenant.us.auth0.com/authorize", "a host, not a URL with a path"),
    ("https://tenant.auth0.com/api/v2/", "a host, not a URL with a path"),
    ("http://tenant.auth0.com", "must use https://"),
    ("ftp://tenant.auth0.com", "absolute https:// URL"),
    ("tenant .auth0.com", "absolute https:// URL"),
    ("tenant.auth0.com:99999", "not a valid URL"),
])
def test_a_malformed_auth0_domain_is_named_with_what_to_write(tmp_path, domain, hint):
    error = refused(tmp_path, f"AUTH_FLOWS_TARGET=auth0\nAUTH0_DOMAIN={domain}\nSPA_CLIENT_ID=spa\n"
                              "REDIRECT_URI=http://localhost:3000/callback\n")
    assert error.settings == ("AUTH0_DOMAIN",) and error.missing == ()
    assert hint in str(error) and str(error).startswith("AUTH0_DOMAIN: ")


@pytest.mark.parametrize("issuer, hint", [
    ("login.example.com/realms/lab", "absolute https:// URL"),
    ("http://login.example.com/", "must use https://"),
    ("https://login.example.com/?tenant=1", "?query or #fragment"),
])
def test_a_malformed_oidc_issuer_is_refused_before_any_request(tmp_path, issuer, hint):
    error = refused(tmp_path, f"AUTH_FLOWS_TARGET=oidc\nOIDC_ISSUER={issuer}\nSPA_CLIENT_ID=spa\n"
                              "REDIRECT_URI=http://localhost:3000/callback\n")
    assert error.settings == ("OIDC_ISSUER",) and hint in str(error)


@pytest.mark.parametrize("line, setting, hint", [
    ("REDIRECT_URI=/callback", "REDIRECT_URI", "absolute https:// URL"),
    ("REDIRECT_URI=http://localhost:3000/callback#done", "REDIRECT_URI", "#fragment"),
    ("GRAPHQL_URL=api.8base.com/ws1", "GRAPHQL_URL", "absolute https:// URL"),
    ("GRAPHQL_URL=http://api.8base.com/ws1", "GRAPHQL_URL", "must use https://"),
])
def test_malformed_urls_name_their_setting(tmp_path, line, setting, hint):
    error = refused(tmp_path, OIDC_BASE + line + "\n")
    assert setting in error.settings and hint in str(error)


def test_every_mistake_of_a_file_is_reported_at_once(tmp_path):
    error = refused(tmp_path, "AUTH_FLOWS_TARGET=auth0\nAUTH0_DOMAIN=tenant.auth0.com/x\nSPA_CLIENT_ID=spa\n"
                              "REDIRECT_URI=callback\nAPI_TOKEN=secret-api-token-value\n")
    assert error.settings == ("GRAPHQL_URL", "AUTH0_DOMAIN", "REDIRECT_URI")
    assert len(str(error).splitlines()) == 4  # the missing key, its reason, two malformed URLs
    assert "secret-api-token-value" not in str(error)


def test_api_settings_without_the_graphql_url_are_refused(tmp_path):
    error = refused(tmp_path, OIDC_BASE + "AUTH_PROFILE_ID=profile-1\nAPI_TOKEN=token-value\n")
    assert error.missing == ("GRAPHQL_URL",)
    assert "AUTH_PROFILE_ID is set, so set GRAPHQL_URL too" in str(error)


def test_a_misspelt_key_is_named_with_the_right_spelling(tmp_path):
    error = refused(tmp_path, OIDC_BASE + "API_AUDEINCE=https://api.example.test/\n")
    assert error.settings == ("API_AUDEINCE",) and "did you mean API_AUDIENCE?" in str(error)


def test_unrelated_keys_in_env_are_left_alone(provider, tmp_path):
    issuer = provider.base + "/"
    provider.documents["/.well-known/openid-configuration"] = metadata(issuer)
    path = write_env(tmp_path, f"AUTH_FLOWS_TARGET=oidc\nOIDC_ISSUER={issuer}\nSPA_CLIENT_ID=spa\n"
                     "REDIRECT_URI=http://localhost:3000/callback\nDATABASE_URL=postgres://x\n")
    assert load_target(path).issuer == issuer


def test_an_oidc_issuer_with_target_auth0_is_pointed_out(tmp_path):
    error = refused(tmp_path, "AUTH_FLOWS_TARGET=auth0\nAUTH0_DOMAIN=tenant.auth0.com\nOIDC_ISSUER=https://x.test/\n"
                              "SPA_CLIENT_ID=spa\nREDIRECT_URI=http://localhost:3000/callback\n")
    assert error.settings == ("OIDC_ISSUER",) and "AUTH_FLOWS_TARGET=oidc" in str(error)


def test_a_discovery_document_with_a_relative_endpoint_is_refused(provider):
    issuer = provider.base + "/"
    provider.documents["/.well-known/openid-configuration"] = metadata(issuer, token_endpoint="/oauth/token")
    with pytest.raises(ConfigError, match="unusable token_endpoint"):
        discover(issuer)


def test_in_a_notebook_a_config_error_shows_its_message_without_a_stack_trace(tmp_path):
    error = refused(tmp_path, "AUTH_FLOWS_TARGET=oidc\n")
    assert error._render_traceback_() == [f"ConfigError: {error}"]


def test_needs_sandbox_is_true_on_the_sandbox_and_prints_nothing(sandbox, capsys):
    assert target_from_sandbox(sandbox).needs_sandbox("it moves the sandbox clock") is True
    assert capsys.readouterr().out == ""


def test_needs_sandbox_on_a_tenant_says_why_and_what_to_set(provider, tmp_path, capsys):
    issuer = provider.base + "/"
    provider.documents["/.well-known/openid-configuration"] = metadata(issuer)
    target = load_target(write_env(tmp_path, f"AUTH_FLOWS_TARGET=oidc\nOIDC_ISSUER={issuer}\nSPA_CLIENT_ID=spa\n"
                                             "REDIRECT_URI=http://localhost:3000/callback\n"))
    assert target.needs_sandbox("it moves the sandbox clock") is False
    printed = capsys.readouterr().out
    assert "it moves the sandbox clock" in printed and "AUTH_FLOWS_TARGET=sandbox" in printed and issuer in printed
    assert target.needs("spa_client_id") is True and capsys.readouterr().out == ""
    assert target.needs("spa_client_id", "m2m_client_id", "api_url") is False
    assert "M2M_CLIENT_ID, GRAPHQL_URL" in capsys.readouterr().out


def test_the_settings_file_can_be_named_by_an_environment_variable(provider, tmp_path, monkeypatch):
    issuer = provider.base + "/"
    provider.documents["/.well-known/openid-configuration"] = metadata(issuer)
    path = write_env(tmp_path, f"AUTH_FLOWS_TARGET=oidc\nOIDC_ISSUER={issuer}\nSPA_CLIENT_ID=spa\n"
                               "REDIRECT_URI=http://localhost:3000/callback\n")
    monkeypatch.setattr(config, "DEFAULT_ENV_FILE", tmp_path / "absent" / ".env")
    assert config.configured_kind() == "sandbox"
    monkeypatch.setenv(config.ENV_FILE_VARIABLE, str(path))
    assert config.configured_kind() == "oidc"
    assert load_target().issuer == issuer


def test_env_example_copied_as_is_means_the_sandbox_and_switched_to_auth0_names_what_to_fill(sandbox, tmp_path):
    example = (config.DEFAULT_ENV_FILE.parent / ".env.example").read_text()
    assert load_target(write_env(tmp_path, example)).issuer == sandbox.idp_url
    switched = example.replace("AUTH_FLOWS_TARGET=sandbox", "AUTH_FLOWS_TARGET=auth0")
    with pytest.raises(ConfigError) as caught:
        load_target(write_env(tmp_path, switched))
    assert caught.value.missing == ("AUTH0_DOMAIN", "SPA_CLIENT_ID", "REDIRECT_URI")


def test_an_oidc_target_sends_resource_reads_iss_support_and_grants_from_discovery(provider, tmp_path, capsys):
    issuer = provider.base + "/"
    provider.documents["/.well-known/openid-configuration"] = metadata(
        issuer, authorization_response_iss_parameter_supported=True, grant_types_supported=["authorization_code"])
    base = f"AUTH_FLOWS_TARGET=oidc\nOIDC_ISSUER={issuer}\nSPA_CLIENT_ID=spa\nREDIRECT_URI=http://localhost:3000/callback\n"
    target = load_target(write_env(tmp_path, base))
    assert target.audience_parameter == "resource" and target.iss_parameter_supported
    assert target.grant_types == ("authorization_code",)
    assert target.needs_grant("password", "it logs in with a password") is False
    assert "does not list the grant password" in capsys.readouterr().out
    assert target.needs_sandbox_api("it moves the API's clock") is False
    assert "SANDBOX_API_TRUSTS_ISSUER=true" in capsys.readouterr().out
    assert load_target(write_env(tmp_path, base + "AUDIENCE_PARAMETER=audience\n")).audience_parameter == "audience"
    error = refused(tmp_path, base + "AUDIENCE_PARAMETER=scope\n")
    assert error.settings == ("AUDIENCE_PARAMETER",)


def test_the_sandbox_target_takes_every_grant_and_the_sandbox_api(sandbox, capsys):
    target = target_from_sandbox(sandbox)
    assert target.audience_parameter == "audience" and not target.iss_parameter_supported
    assert target.needs_grant("http://auth0.com/oauth/grant-type/password-realm", "") and target.needs_sandbox_api("")
    assert capsys.readouterr().out == ""
