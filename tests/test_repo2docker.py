"""repo2docker (what Binder and Zero to JupyterHub images are built with) reads this repository as intended.

Without Docker: ``jupyter-repo2docker --no-build`` prints the Dockerfile it would build, and its Python API
says which build pack it picked. Both come from repo2docker itself (pinned in requirements.txt), not from us.
https://repo2docker.readthedocs.io/en/latest/configuration/
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from contextlib import chdir
from pathlib import Path

import pytest
from escapism import unescape

ROOT = Path(__file__).resolve().parents[1]
RUNTIME = (ROOT / "binder" / "runtime.txt").read_text().strip()     # "python-3.12"
REPO2DOCKER = Path(sys.executable).with_name("jupyter-repo2docker")


@pytest.fixture(scope="module")
def dockerfile() -> tuple[str, str]:
    """The Dockerfile repo2docker would build for this repository (stdout) and its log (stderr)."""
    run = subprocess.run([str(REPO2DOCKER), "--no-build", "--user-name", "learner", "--user-id", "1000", str(ROOT)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    return run.stdout, run.stderr


def _position(text: str, line: str) -> int:
    assert line in text, f"{line!r} is not in the build plan"
    return text.index(line)


def test_python_version_comes_from_binder_runtime(dockerfile):
    text, log = dockerfile
    version = RUNTIME.removeprefix("python-")
    assert f"Building conda environment for python={version}" in log
    # the conda environment lock it copies in: build_script_files/<path escaped with escapism, "-">-<hash>
    sources = re.findall(r"^COPY --chown=\S+ build_script_files/(\S+) ", text, re.M)
    copied = [unescape(source.rsplit("-", 1)[0], escape_char="-") for source in sources]
    assert any(name.endswith(f"/environment.py-{version}-linux-64.lock") for name in copied), copied


def test_requirements_are_installed_from_the_repository_after_it_is_copied(dockerfile):
    text, _ = dockerfile
    copied = _position(text, "COPY --chown=1000:1000 src/ ${REPO_DIR}/")     # owned by --user-id 1000
    install = _position(text, 'pip install --no-cache-dir -r "binder/requirements.txt"')
    workdir = _position(text, "WORKDIR ${REPO_DIR}")
    # binder/requirements.txt says "-r ../requirements.txt", which says "-e .": both need the whole repository,
    # and "." is the working directory, the repository.
    assert workdir < copied < install
    assert text.count("pip install") == 1            # binder/ wins: the root requirements.txt is not read twice
    # nothing else of the repository is read before it is copied (no apt.txt, environment.yml, postBuild ...)
    assert re.findall(r"^COPY --chown=\S+ (src/\S*) ", text, re.M) == ["src/binder/requirements.txt", "src/"]


def test_the_start_script_runs_before_jupyter(dockerfile):
    text, _ = dockerfile
    assert 'ENV R2D_ENTRYPOINT="${REPO_DIR}/binder/start"' in text
    assert 'RUN chmod +x "${REPO_DIR}/binder/start"' in text
    assert os.access(ROOT / "binder" / "start", os.X_OK)


def test_python_api_picks_the_python_build_pack():
    from repo2docker.app import Repo2Docker
    from repo2docker.buildpacks import PythonBuildPack

    app = Repo2Docker()
    with chdir(ROOT):
        picked = next(bp for bp in (BP(base_image=app.base_image) for BP in app.buildpacks) if bp.detect())
        assert type(picked) is PythonBuildPack
        assert picked.binder_dir == "binder"
        assert f"python-{picked.python_version}" == RUNTIME
        assert picked.get_start_script() == "${REPO_DIR}/binder/start"
        assert picked.get_assemble_scripts() == [
            ("${NB_USER}", '${KERNEL_PYTHON_PREFIX}/bin/pip install --no-cache-dir -r "binder/requirements.txt"')]


def test_pinned_jupyterhub_has_the_major_repo2docker_images_ship():
    """Our requirements replace the image's jupyterhub-singleuser: keep the major version repo2docker chose."""
    import repo2docker.buildpacks.conda as conda

    environment = (Path(conda.__file__).parent / "environment.yml").read_text()
    major = re.search(r"^\s*-\s*jupyterhub-singleuser==(\d+)\.\*", environment, re.M).group(1)
    pinned = re.search(r"^jupyterhub==(\d+)\.", (ROOT / "requirements.txt").read_text(), re.M).group(1)
    assert pinned == major
