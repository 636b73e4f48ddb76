"""docs/teaching-a-class.md and docs/z2jh-values.yaml: linked from the README, links that resolve, a values
file the chart can read that runs the image repo2docker builds from this repository."""
from __future__ import annotations

import re
from pathlib import Path

import yaml  # PyYAML, installed with jupyter_events (a jupyter_server dependency)

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "docs" / "teaching-a-class.md"
VALUES = ROOT / "docs" / "z2jh-values.yaml"
LINK = re.compile(r"\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor for a Markdown heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_readme_links_the_guide():
    assert "](docs/teaching-a-class.md)" in (ROOT / "README.md").read_text()


def test_every_link_of_the_guide_resolves_and_is_public():
    text = GUIDE.read_text()
    anchors = {_anchor(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")}
    links = LINK.findall(text)
    assert len(links) > 10
    for link in links:
        if link.startswith("http"):
            assert link.startswith("https://"), link
            continue
        target, _, anchor = link.partition("#")
        path = (GUIDE.parent / target).resolve() if target else GUIDE
        assert path.is_file(), link
        if anchor:
            headings = {_anchor(line.lstrip("#")) for line in path.read_text().splitlines() if line.startswith("#")}
            assert anchor in (headings if target else anchors), link
    assert "shared/" not in text


def test_values_run_the_repo2docker_image_with_the_lessons_in_each_home():
    values = yaml.safe_load(VALUES.read_text())["singleuser"]
    assert values["image"]["name"] and values["image"]["tag"] not in ("", "latest")
    assert values["cmd"] == "jupyterhub-singleuser"
    copy = " ".join(values["lifecycleHooks"]["postStart"]["exec"]["command"])
    built_into = re.search(r"--target-repo-dir (\S+)", VALUES.read_text()).group(1)
    assert f"{built_into}/notebooks" in copy and "cp -rn" in copy          # never overwrites a learner's work
    assert values["defaultUrl"].endswith("/notebooks/00-start-here.ipynb")
    assert (ROOT / "notebooks" / "00-start-here.ipynb").is_file()
    limit = values["memory"]["limit"]
    assert re.fullmatch(r"\d+[MG]", limit)
