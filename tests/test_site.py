"""The static site (tools/build_site.py, `make site`): built once per session into a temporary folder, served on
loopback by a test HTTP server, and read by a real Chromium. Every browser test fails if the page asks for
anything that is not on this machine (a CDN script, a web font, ...).
"""
from __future__ import annotations

import functools
import os
import re
import threading
from html import escape
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest

from tools import build_site

pytestmark = pytest.mark.slow  # builds the whole site once, then a real browser: `make test-fast` leaves it out

LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}
LESSONS = sorted(p.name for p in build_site.NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


@pytest.fixture(scope="session")
def site(tmp_path_factory) -> Path:
    """The site, built from the committed notebooks (nothing is executed)."""
    if not build_site.MERMAID_DIST.is_file() or not (build_site.HTML_MANAGER_DIST / "embed.js").is_file():
        message = "node_modules (mermaid, @jupyter-widgets/html-manager) is missing: run `make site-deps` (npm ci)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + " (CI=true: the site tests are never skipped in CI)")
        pytest.skip(message)
    out = tmp_path_factory.mktemp("site") / "site"
    build_site.build_site(out)
    return out


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, *args):  # no access log in the test output
        pass


@pytest.fixture(scope="session")
def site_url(site) -> str:
    """The site over HTTP on 127.0.0.1 (ES modules and fetch behave as on a real host, unlike file://)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _is_local(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("data", "blob", "about") or parts.hostname in LOOPBACK_HOSTS


@pytest.fixture
def site_page(browser_page, site_url):
    """A browser page where every request is checked: loopback goes through, anything else is refused and
    recorded in ``site_page.outside``; the test fails at the end if there is any."""
    outside: list[str] = []

    def guard(route):
        if _is_local(route.request.url):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    browser_page.context.route("**/*", guard)
    browser_page.outside = outside
    browser_page.site_url = site_url
    yield browser_page
    assert outside == [], f"the page asked for something outside this machine: {outside}"


def _wait_for_diagrams(page) -> None:
    page.wait_for_selector("body[data-diagrams=done]", timeout=30_000)


# ------------------------------------------------------------------------------------------- the build

def test_every_lesson_and_solution_has_a_page(site):
    for name in LESSONS:
        stem = name.removesuffix(".ipynb")
        assert (site / f"{stem}.html").is_file()
        if (build_site.NOTEBOOKS / "solutions" / f"{stem}-solutions.ipynb").is_file():
            assert (site / "solutions" / f"{stem}-solutions.html").is_file()
    assert (site / "assets" / "mermaid.min.js").stat().st_size > 1_000_000


def test_pages_keep_the_committed_outputs(site):
    """Outputs are the notebook's own (not re-run): a stored stream output appears verbatim on the page."""
    source = build_site.NOTEBOOKS / LESSONS[1]
    notebook = nbformat.read(source, as_version=4)
    stream = next(o for c in notebook.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if o.get("output_type") == "stream" and len(o["text"].strip()) > 20)
    first_line = stream["text"].strip().splitlines()[0]
    html = (site / source.name.replace(".ipynb", ".html")).read_text()
    assert escape(first_line, quote=False) in html


def _widget_output(model_id: str) -> dict:
    return {"output_type": "display_data", "metadata": {},
            "data": {build_site.WIDGET_VIEW_MIME: {"model_id": model_id, "version_major": 2, "version_minor": 0},
                     "text/plain": "VBox(children=(Button(description='Send'),))"}}


def test_a_widget_with_saved_state_stays_a_widget_and_one_without_shows_its_text():
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(outputs=[_widget_output("saved"), _widget_output("lost")])]
    notebook.metadata["widgets"] = {build_site.WIDGET_STATE_MIME: {"version_major": 2, "version_minor": 0,
                                                                   "state": {"saved": {"state": {}}}}}
    kept, lost = build_site.with_saved_widgets(notebook).cells[0].outputs
    assert build_site.WIDGET_VIEW_MIME in kept.data and "text/html" not in kept.data
    assert build_site.WIDGET_VIEW_MIME not in lost.data
    assert "widget-fallback" in lost.data["text/html"] and "Button(description='Send')" in lost.data["text/html"]
    assert build_site.WIDGET_VIEW_MIME in notebook.cells[0].outputs[1]["data"]  # the notebook itself is untouched
    del notebook.metadata["widgets"]
    assert build_site.WIDGET_VIEW_MIME not in build_site.with_saved_widgets(notebook).cells[0].outputs[0].data


def test_pages_with_saved_widgets_carry_their_state_and_the_local_html_manager(site):
    """Every widget output of a lesson is on its page as a widget view whose model is in the page's saved state."""
    assert (site / "assets" / "widgets" / "embed.js").stat().st_size > 500_000
    assert list((site / "assets" / "widgets").glob("*.woff2"))
    checked = 0
    for source in sorted(build_site.NOTEBOOKS.glob("[0-9][0-9]-*.ipynb")):
        notebook = nbformat.read(source, as_version=4)
        views = [o["data"][build_site.WIDGET_VIEW_MIME]["model_id"] for c in notebook.cells
                 for o in c.get("outputs", []) if build_site.WIDGET_VIEW_MIME in o.get("data", {})]
        page = (site / source.name.replace(".ipynb", ".html")).read_text()
        assert ('src="assets/widgets/embed.js"' in page) == bool(build_site.saved_widget_models(notebook))
        assert "unpkg.com" not in page and "cdn.jsdelivr" not in page and "require.js" not in page
        for model_id in views:
            assert model_id in build_site.saved_widget_models(notebook), (source.name, model_id)
            assert f'"model_id": "{model_id}"' in page
            checked += 1
    assert checked >= 6


def test_links_between_pages_resolve_and_no_lesson_link_points_at_a_notebook(site):
    """Every relative link or script lands on a file of the site, and on an element with its #fragment's id."""
    broken, to_notebooks = [], []
    for html_file in list(site.glob("*.html")) + list(site.glob("solutions/*.html")) + list(site.glob("docs/*.html")):
        for href in re.findall(r'(?:href|src)="([^"]+)"', html_file.read_text()):
            parts = urlsplit(href)
            if parts.scheme or href.startswith("#"):
                continue
            target = (html_file.parent / unquote(parts.path)).resolve()
            if parts.path.endswith(".ipynb") and re.match(r"\d\d-", Path(parts.path).name):
                to_notebooks.append((html_file.name, href))
            elif not target.exists():
                broken.append((html_file.name, href))
            elif parts.fragment and f'id="{parts.fragment}"' not in target.read_text():
                broken.append((html_file.name, href))
    assert to_notebooks == []
    assert broken == []


def test_the_docs_become_pages_that_lessons_and_the_contents_link(site):
    """docs/*.md (sources, glossary) are pages of the site, not raw copies: their anchors work in a browser."""
    for doc in sorted((build_site.ROOT / "docs").glob("*.md")):
        assert (site / "docs" / f"{doc.stem}.html").is_file(), doc.name
        assert f'href="docs/{doc.stem}.html"' in (site / "index.html").read_text()
    assert not list((site / build_site.REPOSITORY_FILES / "docs").glob("*.md"))  # other docs files (a YAML) are copied
    lesson = (site / "07-security-pitfalls.html").read_text()
    assert 'href="docs/sources.html#sig-08"' in lesson and ".md#" not in lesson
    assert 'id="sig-08"' in (site / "docs" / "sources.html").read_text()
    glossary = (site / "docs" / "glossary.html").read_text()
    assert 'href="../01-obtaining-tokens.html"' in glossary and 'href="sources.html#auth0-password-grant"' in glossary


def test_doc_links_are_rewritten_only_for_docs_pages(tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "notebooks").mkdir()
    lesson = build_site.Page(tmp_path / "notebooks" / "07-a.ipynb", "07-a.html", "07", "lesson", "07", "")
    sources = build_site.Page(tmp_path / "docs" / "sources.md", "docs/sources.html", "", "doc", "Sources", "")
    html = ('<a href="../docs/sources.md#sig-08">x</a> <a href="../docs/other.md">y</a> '
            '<a href="https://example.org/docs/sources.md">z</a>')
    assert build_site.rewrite_doc_links(html, lesson, [sources]) == (
        '<a href="docs/sources.html#sig-08">x</a> <a href="../docs/other.md">y</a> '
        '<a href="https://example.org/docs/sources.md">z</a>')


def test_the_build_command_refuses_a_foreign_folder_with_a_message(site, tmp_path, capsys):
    (tmp_path / "notes.txt").write_text("mine")
    assert build_site.main(["--out", str(tmp_path)]) == 2
    assert "not empty" in capsys.readouterr().err
    assert (tmp_path / "notes.txt").exists()


def test_a_mermaid_fence_keeps_its_angle_brackets():
    """nbconvert 7.17.2 pastes the fence into the page as HTML: ``<ID token>`` would become a tag and vanish."""
    page = build_site.markdown_to_html("```mermaid\nsequenceDiagram\n    A->>G: Bearer <ID token> & more\n```")
    assert '<pre class="mermaid">' in page
    assert "Bearer &lt;ID token&gt; &amp; more" in page


def test_notebook_links_are_rewritten_only_for_pages_of_the_site(tmp_path):
    (tmp_path / "solutions").mkdir()
    lesson = build_site.Page(tmp_path / "01-a.ipynb", "01-a.html", "01", "lesson", "01", "")
    solution = build_site.Page(tmp_path / "solutions" / "01-a-solutions.ipynb", "solutions/01-a-solutions.html",
                               "01", "solutions", "S01", "")
    html = ('<a href="../01-a.ipynb#1.2-Part">x</a> <a href="99-missing.ipynb">y</a> '
            '<a href="https://example.org/01-a.ipynb">z</a>')
    assert build_site.rewrite_notebook_links(html, solution, [lesson, solution]) == (
        '<a href="../01-a.html#1.2-Part">x</a> <a href="99-missing.ipynb">y</a> '
        '<a href="https://example.org/01-a.ipynb">z</a>')


def test_search_index_has_sections_of_every_lesson(site):
    text = (site / "assets" / "search-index.js").read_text()
    for name in LESSONS:
        assert f'"href": "{name.replace(".ipynb", ".html")}#' in text


def test_build_refuses_to_wipe_a_folder_it_did_not_make(tmp_path):
    (tmp_path / "precious.txt").write_text("keep me")
    with pytest.raises(build_site.SiteBuildError):
        build_site.prepare_output(tmp_path)
    assert (tmp_path / "precious.txt").read_text() == "keep me"


# ------------------------------------------------------------------------------------------ in a browser

def test_a_lesson_draws_its_mermaid_diagrams_as_svg(site_page):
    site_page.goto(site_page.site_url + "01-obtaining-tokens.html")
    _wait_for_diagrams(site_page)
    blocks = site_page.locator(".jp-Mermaid")
    assert blocks.count() > 0
    assert site_page.locator(".jp-Mermaid figure.diagram svg").count() == blocks.count()
    assert site_page.locator(".diagram-error").count() == 0
    assert site_page.locator("svg[aria-roledescription=sequence]").count() > 0
    assert "Syntax error" not in site_page.inner_text("body")
    assert site_page.locator(".jp-Mermaid pre.mermaid").first.is_hidden()
    site_page.shot("lesson-01")


def test_every_diagram_of_every_page_draws(site_page, site):
    failures = []
    for html_file in sorted(site.glob("*.html")) + sorted(site.glob("solutions/*.html")):
        if "jp-Mermaid" not in html_file.read_text():
            continue
        site_page.goto(site_page.site_url + html_file.relative_to(site).as_posix())
        _wait_for_diagrams(site_page)
        drawn = site_page.locator(".jp-Mermaid figure.diagram svg").count()
        total = site_page.locator(".jp-Mermaid").count()
        if drawn != total or site_page.locator(".diagram-error").count():
            failures.append((html_file.name, drawn, total, site_page.locator(".diagram-error").all_inner_texts()))
    assert failures == []


def test_contents_prev_next_and_solutions_links_work(site_page):
    site_page.goto(site_page.site_url + "index.html")
    titles = site_page.locator(".lesson-list a.lesson-link")
    assert titles.count() == len(LESSONS)
    assert [href for href in titles.evaluate_all("els => els.map(e => e.getAttribute('href'))")] == \
        [name.replace(".ipynb", ".html") for name in LESSONS]

    titles.nth(0).click()
    assert site_page.url.endswith("/" + LESSONS[0].replace(".ipynb", ".html"))
    site_page.locator(".site-pager-top a[rel=next]").click()
    assert site_page.url.endswith("/" + LESSONS[1].replace(".ipynb", ".html"))
    site_page.locator(".site-pager-bottom a[rel=prev]").click()
    assert site_page.url.endswith("/" + LESSONS[0].replace(".ipynb", ".html"))

    site_page.goto(site_page.site_url + LESSONS[1].replace(".ipynb", ".html"))
    site_page.locator(".site-pager-top a[rel=alternate]").click()
    assert "/solutions/" in site_page.url and site_page.url.endswith("-solutions.html")
    assert site_page.locator("h1").first.inner_text().startswith("Solutions")
    site_page.locator(".site-pager-top a[rel=alternate]").click()
    assert site_page.url.endswith("/" + LESSONS[1].replace(".ipynb", ".html"))
    site_page.locator(".site-pager-top a[rel=contents]").click()
    assert site_page.url.endswith("/index.html")


def test_a_link_written_as_a_notebook_leads_to_its_page(site_page):
    """Lesson text links ``NN-x.ipynb``; on the site that link must open the built page."""
    site_page.goto(site_page.site_url + LESSONS[1].replace(".ipynb", ".html"))
    link = site_page.locator(f'.jp-MarkdownCell a[href^="{LESSONS[0].replace(".ipynb", ".html")}"]').first
    link.click()
    assert urlsplit(site_page.url).path.endswith("/" + LESSONS[0].replace(".ipynb", ".html"))
    assert site_page.locator("h1").first.is_visible()


def test_search_finds_a_term_and_opens_its_section(site_page):
    site_page.goto(site_page.site_url + "index.html")
    site_page.fill(".site-search input[name=q]", "User is absent")
    site_page.press(".site-search input[name=q]", "Enter")
    site_page.wait_for_url("**/search.html?q=*")
    results = site_page.locator("#search-results li a")
    results.first.wait_for()
    assert results.count() > 0
    assert "found" in site_page.inner_text("#search-status")
    site_page.shot("search")
    results.first.click()
    site_page.wait_for_load_state()
    assert "user is absent" in site_page.inner_text("body").lower()


def test_search_says_when_nothing_matches(site_page):
    site_page.goto(site_page.site_url + "search.html?q=zzqxvnonexistentword")
    site_page.wait_for_selector("#search-status:has-text('Nothing found')")
    assert site_page.locator("#search-results li").count() == 0


def test_search_results_never_interpret_the_query_as_html(site_page):
    site_page.goto(site_page.site_url + "search.html?q=" + "%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E")
    site_page.wait_for_selector("#search-status:has-text('Nothing found')")
    assert site_page.locator("#search-status img").count() == 0


def test_the_request_guard_catches_a_request_that_leaves_the_machine(site_page):
    """The guard the other tests rely on: a request to a non-loopback host is refused and recorded."""
    site_page.goto(site_page.site_url + "index.html")
    site_page.evaluate("() => fetch('http://example.invalid/probe').catch(() => null)")
    assert site_page.outside == ["http://example.invalid/probe"]
    site_page.outside.clear()


def test_a_case_id_in_a_lesson_opens_its_entry_in_the_sources(site_page):
    site_page.goto(site_page.site_url + "07-security-pitfalls.html")
    site_page.locator('.jp-MarkdownCell a[href="docs/sources.html#sig-08"]').first.click()
    assert urlsplit(site_page.url).path.endswith("/docs/sources.html") and site_page.url.endswith("#sig-08")
    assert site_page.locator("h3", has_text="SIG-08").first.is_visible()
    assert site_page.locator("h1").first.inner_text().startswith("Sources")


def test_a_lessons_images_travel_inside_its_page(site_page, site_url):
    """notebooks/images/ is not copied: lesson 01's screenshot is embedded, and the browser really draws it."""
    site_page.goto(site_url + "01-obtaining-tokens.html")
    image = site_page.locator("img[alt^=\"The sandbox's sample single-page app\"]")
    assert image.get_attribute("src").startswith("data:image/png;base64,")
    assert image.evaluate("img => img.complete && img.naturalWidth") > 0


def test_lesson_03s_widget_is_drawn_from_its_saved_state(site_page):
    """The html-manager (local copy) draws the token-to-endpoint picker with the answers it had when saved."""
    site_page.goto(site_page.site_url + "03-id-token-vs-access-token.html")
    widget = site_page.locator(".jupyter-widgets.jp-OutputArea-output", has=site_page.locator("select"))
    widget.locator("button", has_text="Send").wait_for(timeout=30_000)
    assert widget.locator("select").count() == 2
    assert widget.locator("select").nth(1).evaluate("s => Array.from(s.options).map(o => o.value)") == \
        ["GraphQL API", "/userinfo"]
    table = widget.locator("table")
    assert "InvalidTokenError" in table.inner_text() and "ada@example.com" in table.inner_text()
    assert site_page.locator(".widget-fallback").count() == 0
    widget.screenshot(path=str(site_page.shot("lesson-03").with_name("lesson-03-widget.png")))
