"""helpers/case_study.py: lesson 06's desk (new people, the API's sign-up, the app's call, the doctor)."""
from __future__ import annotations

from helpers.case_study import CaseStudy, mask
from helpers.config import target_from_sandbox
from helpers.tokens import decode_parts


def test_a_new_person_is_absent_until_signed_up_and_the_desk_records_each_answer(own_sandbox, capsys):
    desk = CaseStudy(target_from_sandbox(own_sandbox), now=own_sandbox.clock.now)
    token = desk.new_person("desk-1@example.com", given_name="Dee", family_name="Esk")
    desk.ask(token, section="before")
    verdict = desk.consult(token)
    assert desk.symptom == {"before": "UserNotFoundError"}
    assert verdict.first_problem is not None and verdict.first_problem.check == "signed_up"
    user_id = desk.sign_up_in_api(token)
    desk.ask(token, section="after")
    assert desk.symptom["after"] == "data" and own_sandbox.find_user("desk-1@example.com")["id"] == user_id
    printed = capsys.readouterr().out
    assert "UserNotFoundError: User is absent" in printed
    assert "signed up at " + own_sandbox.api_url + ": desk-1@example.com (roles " in printed
    assert "data: {'user': {'email': 'desk-1@example.com'}}" in printed


def test_log_in_passes_options_and_mask_hides_new_ids(own_sandbox):
    target = target_from_sandbox(own_sandbox)
    desk = CaseStudy(target, now=own_sandbox.clock.now)
    tokens = desk.log_in(*target.users[0], scope="openid profile")
    claims = decode_parts(tokens.id_token).payload
    assert claims["sub"] and "email" not in claims and tokens.scope == "openid profile"
    assert mask("user ck0123456789abcdefghijklm, role x") == "user <new id>, role x"
