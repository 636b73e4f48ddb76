"""helpers/settings_trial.py: a purpose-made .env is loaded from a temporary folder, never from the project."""
from __future__ import annotations

from helpers.config import Target
from helpers.settings_trial import try_settings


def test_a_wrong_setting_gives_the_config_errors_message_with_the_path_shown_as_dot_env(tmp_path):
    answer = try_settings("AUTH_FLOWS_TARGET=auth0\nAUTH0_DOMAIN=example.eu.auth0.com\n", tmp_path)
    assert isinstance(answer, str) and "SPA_CLIENT_ID" in answer and "REDIRECT_URI" in answer
    assert str(tmp_path) not in answer and ".env" in answer
    assert (tmp_path / ".env").read_text().startswith("AUTH_FLOWS_TARGET=auth0")


def test_an_unknown_kind_is_named_and_the_sandbox_loads_as_a_target():
    answer = try_settings("AUTH_FLOWS_TARGET=okta\n")
    assert isinstance(answer, str) and "'okta'" in answer and "use one of" in answer
    sandbox = try_settings("AUTH_FLOWS_TARGET=sandbox\n")
    assert isinstance(sandbox, Target) and sandbox.kind == "sandbox"


def test_each_trial_without_a_folder_gets_its_own_temporary_folder():
    first = try_settings("AUTH_FLOWS_TARGET=okta\n")
    second = try_settings("AUTH_FLOWS_TARGET=auth0\n")
    assert first != second and "okta" not in second
