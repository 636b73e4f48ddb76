"""A class on JupyterHub: two learners run lesson 04 at the same time, each through their own single-user server.

JupyterHub (pinned in requirements.txt) with its proxy from npm (configurable-http-proxy, package-lock.json,
installed by ``make site-deps``), JupyterHub's local-process spawner and shared-password authenticator; the
lesson's cells go over each server's kernel WebSocket (bench/classroom.py). ``python -m bench B8`` runs the
same with eight learners and reports memory and wall time (bench/RESULTS.md).
"""
from __future__ import annotations

import os

import nbformat
import pytest

from bench.classroom import LESSON, comparable, run_class
from bench.hub import PROXY

pytestmark = pytest.mark.slow  # a real JupyterHub and two learners: `make test-fast` leaves it out


@pytest.fixture(scope="module")
def two_learners(tmp_path_factory):
    if not PROXY.exists():
        message = f"{PROXY} is missing: run `make site-deps` (npm ci)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: never skipped in CI)")
        pytest.skip(message)
    return run_class(2, tmp_path_factory.mktemp("hub"))


def test_every_learner_runs_the_whole_lesson_without_an_error(two_learners):
    code_cells = [c for c in nbformat.read(LESSON, as_version=4).cells if c.cell_type == "code"]
    assert [learner.name for learner in two_learners.learners] == ["learner-1", "learner-2"]
    for learner in two_learners.learners:
        assert learner.cells == len(code_cells)
        assert learner.errors == [], learner.name
        assert learner.mismatches == [], f"{learner.name}: cells whose output differs from the committed one"


def test_learners_share_no_port_data_folder_home_or_kernel(two_learners):
    assert two_learners.collisions() == []
    homes = {learner.facts["home"] for learner in two_learners.learners}
    assert all(learner.facts["cwd"] == learner.facts["home"] for learner in two_learners.learners)
    assert all(home.endswith("/home/" + name) for home, name in zip(sorted(homes), ["learner-1", "learner-2"]))
    servers = {learner.server_pid for learner in two_learners.learners}
    assert len(servers) == 2                              # one single-user server per learner
    assert two_learners.breaches == []                    # a wrong password and another's token are refused


def test_memory_per_learner_is_measured_and_the_hub_stops_everything(two_learners):
    for learner in two_learners.learners:
        assert 0 < learner.bare_kernel_rss < learner.kernel_rss   # the sandbox lives in the learner's kernel
        assert learner.server_rss > 0
        assert learner.facts["threads"] > 1                       # its servers are threads of that kernel
    assert two_learners.leftovers == []                   # no server or kernel outlived the hub


def test_output_comparison_is_nbval_s():
    """Ports and tokens are sanitised as in strict nbval; any other change counts; streams merge by name."""
    printed = [{"output_type": "stream", "name": "stdout", "text": "http://localhost:41234/ 200\n"}]
    same = [{"output_type": "stream", "name": "stdout", "text": "http://localhost:5555/ "},
            {"output_type": "stream", "name": "stdout", "text": "200\n"}]
    other = [{"output_type": "stream", "name": "stdout", "text": "http://localhost:41234/ 401\n"}]
    assert comparable(printed) == comparable(same)
    assert comparable(printed) != comparable(other)
    assert comparable(printed) != comparable([{"output_type": "execute_result", "execution_count": 1,
                                               "data": {"text/plain": "'http://localhost:1/ 200'"}, "metadata": {}}])
