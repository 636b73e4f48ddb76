"""helpers.exceptions: one root, the old import places still work, and each error names its catalog entry."""
from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import pytest

import helpers
from helpers import exceptions
from helpers.catalog import UnknownError, entries
from helpers.exceptions import (ConfigError, FlowError, GraphQLCallError, LabError, NotAJwt, SocketClosed,
                                TokenRejected, error_class)

HELPERS = Path(helpers.__file__).parent
BY_ID = {e.id: e for e in entries()}


def _client_modules() -> list[Path]:
    return [p for p in HELPERS.rglob("*.py") if "sandbox" not in p.relative_to(HELPERS).parts]


def test_every_exception_class_of_the_client_helpers_is_defined_in_exceptions_under_lab_error():
    defined_elsewhere = []
    for path in _client_modules():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ClassDef) and any(
                    isinstance(base, ast.Name) and base.id.endswith(("Exception", "Error")) for base in node.bases):
                defined_elsewhere.append(f"{path.relative_to(HELPERS)}:{node.name}")
    # catalog.UnknownError is the one exception outside: the exceptions import the catalog, not the reverse
    assert [d for d in defined_elsewhere if not d.startswith("exceptions.py:")] == ["catalog.py:UnknownError"]
    public = [getattr(exceptions, name) for name in exceptions.__all__]
    classes = [c for c in public if inspect.isclass(c) and issubclass(c, BaseException)]
    assert all(issubclass(c, LabError) for c in classes if c is not UnknownError)
    assert len(classes) >= 20


@pytest.mark.parametrize("module, name", [
    ("helpers.graphql", "GraphQLCallError"), ("helpers.graphql", "NotAuthorizedError"),
    ("helpers.graphql", "error_class"), ("helpers.verify", "TokenRejected"), ("helpers.verify", "REASONS"),
    ("helpers.verify", "KeySourceUnavailable"), ("helpers.flows", "FlowError"), ("helpers.config", "ConfigError"),
    ("helpers.subscriptions", "SocketClosed"), ("helpers.tokens", "NotAJwt"), ("helpers", "LabError"),
])
def test_the_old_import_places_give_the_same_objects(module, name):
    assert getattr(importlib.import_module(module), name) is getattr(exceptions, name)


def test_each_8base_code_has_its_class_and_an_unknown_code_the_base_class():
    codes = {e.code for e in entries() if e.id.startswith("api-") and e.code}
    for code in codes:
        assert error_class(code).__name__ == code, code
    assert error_class("NoSuchCodeError") is GraphQLCallError and error_class(None) is GraphQLCallError


@pytest.mark.parametrize("error, entry_id", [
    (GraphQLCallError.from_error({"message": "User is absent", "code": "UserNotFoundError"}), "api-user-absent"),
    (GraphQLCallError.from_error({"message": "Token expired", "code": "TokenExpiredError"}), "api-token-expired"),
    (TokenRejected("expired"), "client-token-expired"),
    (TokenRejected("bad_nonce"), "client-nonce-mismatch"),
    (FlowError(403, "invalid_grant", "Wrong email or password."), "idp-token-wrong-credentials"),
])
def test_an_exception_carries_its_catalog_id(error, entry_id):
    assert entry_id in BY_ID
    assert error.catalog_id == entry_id
    assert error.explain().id == entry_id
    assert isinstance(error, LabError)


@pytest.mark.parametrize("error", [ConfigError("no .env", missing=("AUTH0_DOMAIN",)), SocketClosed(1000),
                                   NotAJwt("not a JWT"), TokenRejected("malformed")])
def test_an_exception_without_a_catalog_row_says_none(error):
    assert error.catalog_id is None
    with pytest.raises(UnknownError):
        error.explain()


def test_not_a_jwt_is_still_a_value_error():
    assert issubclass(NotAJwt, ValueError)
