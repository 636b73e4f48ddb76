"""Build the static lesson site: every lesson and solution as committed (outputs included, never re-executed).

Usage: .venv/bin/python tools/build_site.py [--out build/site]      (``make site`` runs ``npm ci`` first)

What it writes into the output folder:
- ``index.html``, the contents: the lessons in order, each with its solutions;
- one page per notebook (``NN-title.html``, ``solutions/NN-title-solutions.html``) in nbconvert's JupyterLab
  look, with a pager (previous, contents, solutions or lesson, next); links to ``*.ipynb`` lessons point at
  their pages; a widget whose state the notebook saved is drawn from it by the ipywidgets html-manager
  (``assets/widgets/embed.js``, copied from ``node_modules`` like mermaid), any other shows its text/plain;
- ``docs/NAME.html`` for every ``docs/NAME.md`` (the sources and the glossary the lessons cite), with links to
  lessons and between the docs pointing at pages; lessons' links to ``../docs/NAME.md#anchor`` point there too;
- ``search.html`` with ``assets/search-index.js`` (one entry per section, made here) and ``assets/search.js``;
- ``assets/``: the site's CSS and scripts (``site/assets``) and ``mermaid.min.js`` from ``node_modules`` (the
  version pinned in package-lock.json), which draws the ```` ```mermaid ```` diagrams in the browser.
Nothing on a page is fetched from outside the site.
"""
from __future__ import annotations

import argparse
import html
import json
import posixpath
import re
import shutil
import sys
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote

import jinja2
import nbformat
from nbconvert import HTMLExporter
from nbconvert.filters.markdown_mistune import IPythonRenderer, MarkdownWithMath

if __package__ in (None, ""):  # run as a script (python tools/build_site.py): the repository root is not on the path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tools.site_widgets import (HTML_MANAGER_DIST, WIDGET_STATE_MIME, WIDGET_VIEW_MIME,  # noqa: E402,F401
                                copy_widget_manager, saved_widget_models, with_saved_widgets)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DOCS = ROOT / "docs"
SITE_SOURCES = ROOT / "site"
TEMPLATES = SITE_SOURCES / "templates"
ASSETS = SITE_SOURCES / "assets"
MERMAID_DIST = ROOT / "node_modules" / "mermaid" / "dist" / "mermaid.min.js"
DEFAULT_OUT = ROOT / "build" / "site"
MARKER = ".auth-flows-lab-site"
"""A file in every built site, so a rebuild only ever deletes a folder this script made."""

LESSON_NAME = re.compile(r"^(\d\d)-[a-z0-9-]+\.ipynb$")
REPOSITORY_FILES = "repository"  # the site's folder for repository files a lesson links to (.env.example, ...)
RELATIVE_HREF = re.compile(r'href="(?![a-zA-Z][a-zA-Z0-9+.-]*:|#|/)([^"#?]+)(#[^"]*)?"')
NOTEBOOK_HREF = re.compile(r'href="(?![a-zA-Z][a-zA-Z0-9+.-]*:|#|/)([^"#?]+\.ipynb)(#[^"]*)?"')


class SiteBuildError(Exception):
    """The site cannot be built (a missing prerequisite, an unsafe output folder)."""


@dataclass
class Page:
    """One notebook of the site: where it comes from, where its page goes, and its title."""

    source: Path            # the notebook
    href: str               # the page, relative to the site root (posix)
    number: str             # "04"
    kind: str               # "lesson", "solutions" or "doc" (a docs/*.md page)
    title: str
    summary: str


# ---------------------------------------------------------------------------------------------- the pages

def notebook_title(notebook: nbformat.NotebookNode, fallback: str) -> tuple[str, str]:
    """The first ``# heading`` of the notebook and the first paragraph after it that is not a heading."""
    for cell in notebook.cells:
        if cell.cell_type != "markdown":
            continue
        lines = cell.source.strip().splitlines()
        if lines and lines[0].startswith("# "):
            paragraphs = [p.strip() for p in "\n".join(lines[1:]).split("\n\n") if p.strip()]
            summary = next((p for p in paragraphs if not p.startswith("#")), "")
            return lines[0][2:].strip(), plain_text(summary)
    return fallback, ""


def discover_pages(notebooks: Path = NOTEBOOKS) -> list[Page]:
    """Every lesson (``NN-*.ipynb``, in order) followed by every solutions notebook."""
    pages = []
    for folder, kind, prefix in ((notebooks, "lesson", ""), (notebooks / "solutions", "solutions", "solutions/")):
        for source in sorted(folder.glob("[0-9][0-9]-*.ipynb")):
            if not LESSON_NAME.match(source.name):
                continue
            title, summary = notebook_title(nbformat.read(source, as_version=4), source.stem)
            pages.append(Page(source, prefix + source.stem + ".html", source.name[:2], kind, title, summary))
    return pages


def discover_docs(docs: Path = DOCS) -> list[Page]:
    """Every ``docs/*.md`` page (the sources and glossary the lessons cite), in name order."""
    pages = []
    for source in sorted(docs.glob("*.md")):
        lines = source.read_text(encoding="utf-8").splitlines()
        title = next((line[2:].strip() for line in lines if line.startswith("# ")), source.stem)
        pages.append(Page(source, f"docs/{source.stem}.html", "", "doc", title, ""))
    return pages


def relative_href(target: str, from_page: str) -> str:
    """``target`` (relative to the site root) as a link from the page ``from_page``."""
    return posixpath.relpath(target, posixpath.dirname(from_page) or ".")


def page_links(page: Page, pages: list[Page]) -> list[dict[str, str]]:
    """The pager of a page: previous and next of its kind, the contents, and its lesson or its solutions."""
    same_kind = [p for p in pages if p.kind == page.kind]
    at = same_kind.index(page)
    partner = next((p for p in pages if p.number == page.number and p.kind != page.kind), None)
    links = []
    if at > 0:
        links.append({"rel": "prev", "href": relative_href(same_kind[at - 1].href, page.href),
                      "label": "← " + same_kind[at - 1].title})
    links.append({"rel": "contents", "href": relative_href("index.html", page.href), "label": "Contents"})
    if partner:
        label = "Solutions" if page.kind == "lesson" else "Back to the lesson"
        links.append({"rel": "alternate", "href": relative_href(partner.href, page.href), "label": label})
    if at + 1 < len(same_kind):
        links.append({"rel": "next", "href": relative_href(same_kind[at + 1].href, page.href),
                      "label": same_kind[at + 1].title + " →"})
    return links


# --------------------------------------------------------------------------------------- notebook to page

def rewrite_notebook_links(markup: str, page: Page, pages: list[Page]) -> str:
    """Point links to lesson notebooks (``NN-x.ipynb``, ``../NN-x.ipynb#part``) at their pages."""
    return _links_to_pages(markup, page, pages, NOTEBOOK_HREF)


def rewrite_doc_links(markup: str, page: Page, docs: list[Page]) -> str:
    """Point links to ``docs/*.md`` files (``../docs/sources.md#sig-08``) at their pages on the site."""
    return _links_to_pages(markup, page, docs, RELATIVE_HREF)


def _links_to_pages(markup: str, page: Page, targets: list[Page], href: re.Pattern) -> str:
    """Each relative link of ``markup`` (matched by ``href``) whose file is the source of one of ``targets``
    now points at that target's page, relative to ``page``; other links stay as they are."""
    by_source = {target.source.resolve(): target for target in targets}

    def replace(match: re.Match) -> str:
        target = by_source.get((page.source.parent / unquote(match.group(1))).resolve())
        if target is None:
            return match.group(0)
        return f'href="{relative_href(target.href, page.href)}{match.group(2) or ""}"'

    return href.sub(replace, markup)


def copy_repository_links(markup: str, page: Page, out: Path, root: Path = ROOT) -> str:
    """Links to files of the repository (not pages) go to copies under ``repository/`` in the site, so a
    lesson's ``[.env.example](../.env.example)`` opens there too. Files outside the repository stay untouched."""

    def replace(match: re.Match) -> str:
        source = (page.source.parent / unquote(match.group(1))).resolve()
        if source.suffix == ".ipynb" or not source.is_file() or not source.is_relative_to(root):
            return match.group(0)
        relative = source.relative_to(root).as_posix()
        copy = out / REPOSITORY_FILES / relative
        copy.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, copy)
        return f'href="{relative_href(f"{REPOSITORY_FILES}/{relative}", page.href)}{match.group(2) or ""}"'

    return RELATIVE_HREF.sub(replace, markup)


class DiagramSafeRenderer(IPythonRenderer):
    """nbconvert's markdown renderer, except that a mermaid fence keeps its text.

    nbconvert 7.17.2 writes the fence into ``<pre class="mermaid">`` unescaped, so ``Bearer <ID token>`` becomes an
    HTML tag: the browser drops it (a diagram silently loses words) or the diagram no longer parses. Escaped,
    the browser gives mermaid back exactly the text of the fence.
    """

    def block_mermaidjs(self, code: str) -> str:
        text = html.escape(code.strip(), quote=False)
        return f'<div class="jp-Mermaid"><pre class="mermaid">\n{text}\n</pre></div>'


def plain_text(markdown: str) -> str:
    """The words of a markdown snippet, without markup."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", markdown_to_html(markdown))).split())


def markdown_to_html(source: str, **renderer_options) -> str:
    """A markdown cell as nbconvert renders it (headings get their ids), with diagram-safe mermaid fences."""
    return MarkdownWithMath(renderer=DiagramSafeRenderer(escape=False, **renderer_options)).render(source)


class SiteExporter(HTMLExporter):
    """nbconvert's HTML exporter on the site's template (JupyterLab look, no CDN scripts, safe diagrams)."""

    @jinja2.pass_context
    def markdown2html(self, context, source):
        cell = context.get("cell", {})
        return markdown_to_html(source, attachments=cell.get("attachments", {}), embed_images=self.embed_images,
                                path=context.get("resources", {}).get("metadata", {}).get("path", ""),
                                anchor_link_text=self.anchor_link_text,
                                exclude_anchor_links=self.exclude_anchor_links, **self.lexer_options)


def make_exporter() -> HTMLExporter:
    """The exporter for every page of the site."""
    exporter = SiteExporter(extra_template_basedirs=[str(TEMPLATES)], extra_template_paths=[str(TEMPLATES)],
                            template_name="lesson")
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True
    exporter.embed_images = True  # a lesson's images (notebooks/images/) go into its page as data: URIs
    return exporter


def render_page(page: Page, pages: list[Page], exporter: HTMLExporter) -> str:
    """The HTML page of one notebook."""
    notebook = with_saved_widgets(nbformat.read(page.source, as_version=4))
    notebook.metadata["title"] = f"{page.title} · Auth Flows Lab"
    site = {"root": "../" * page.href.count("/"), "links": page_links(page, pages)}
    markup, _ = exporter.from_notebook_node(
        notebook, resources={"site": site, "metadata": {"path": str(page.source.parent)}})
    return rewrite_notebook_links(markup, page, pages)


def render_doc(doc: Page, pages: list[Page], docs: list[Page], environment: jinja2.Environment) -> str:
    """The HTML page of one ``docs/*.md`` file, its links to lessons and to other docs pointing at pages."""
    body = markdown_to_html(doc.source.read_text(encoding="utf-8"))
    site = {"root": "../", "links": []}
    markup = environment.get_template("doc.html.j2").render(site=site, title=doc.title, body=body)
    return rewrite_doc_links(rewrite_notebook_links(markup, doc, pages), doc, docs)


# ------------------------------------------------------------------------------------------------ search

class _SectionText(HTMLParser):
    """Splits rendered markdown into sections at each heading that has an id (nbconvert adds them)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[dict[str, str]] = []
        self._heading: str | None = None     # the tag of the heading being read
        self._in_anchor = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if re.fullmatch(r"h[1-6]", tag) and attributes.get("id"):
            self._heading = tag
            self.sections.append({"anchor": attributes["id"], "title": "", "text": ""})
        elif tag == "a" and "anchor-link" in (attributes.get("class") or ""):
            self._in_anchor = True

    def handle_endtag(self, tag):
        if tag == self._heading:
            self._heading = None
        elif tag == "a":
            self._in_anchor = False

    def handle_data(self, data):
        if self._in_anchor:
            return
        if not self.sections:
            self.sections.append({"anchor": "", "title": "", "text": ""})
        self.sections[-1]["title" if self._heading else "text"] += data


def search_entries(page: Page) -> list[dict[str, str]]:
    """One search entry per section of a notebook or docs page: its heading, link, and words (markdown and code)."""
    parser = _SectionText()
    if page.kind == "doc":
        parser.feed(markdown_to_html(page.source.read_text(encoding="utf-8")))
    else:
        for cell in nbformat.read(page.source, as_version=4).cells:
            if cell.cell_type == "markdown":
                parser.feed(markdown_to_html(cell.source) + "\n")
            elif cell.cell_type == "code":
                parser.handle_data("\n" + cell.source + "\n")
    entries = []
    for section in parser.sections:
        title = " ".join(section["title"].split()) or page.title
        text = " ".join(section["text"].split())
        if text or section["anchor"]:
            href = page.href + (f"#{section['anchor']}" if section["anchor"] else "")
            entries.append({"page": page.title, "title": title, "href": href, "text": text})
    return entries


# ------------------------------------------------------------------------------------------------- build

def prepare_output(out: Path) -> None:
    """An empty output folder: a previous site is removed, anything else is refused."""
    if out.exists():
        if not (out / MARKER).exists() and any(out.iterdir()):
            raise SiteBuildError(f"{out} is not empty and was not built by this script: choose another --out")
        shutil.rmtree(out)
    (out / "assets").mkdir(parents=True)
    (out / MARKER).write_text("Built by tools/build_site.py; the next build deletes this folder.\n")


def build_site(out: Path = DEFAULT_OUT, notebooks: Path = NOTEBOOKS, mermaid_js: Path = MERMAID_DIST,
               docs_folder: Path = DOCS) -> list[Page]:
    """Write the whole site into ``out``; returns its notebook pages."""
    for needed in (mermaid_js, HTML_MANAGER_DIST / "embed.js"):
        if not needed.is_file():
            raise SiteBuildError(f"{needed} is missing: run `make site-deps` (npm ci) first")
    pages = discover_pages(notebooks)
    if not pages:
        raise SiteBuildError(f"no NN-*.ipynb lessons in {notebooks}")
    prepare_output(out)

    docs = discover_docs(docs_folder)
    exporter = make_exporter()
    for page in pages:
        target = out / page.href
        target.parent.mkdir(parents=True, exist_ok=True)
        markup = rewrite_doc_links(render_page(page, pages, exporter), page, docs)
        target.write_text(copy_repository_links(markup, page, out), encoding="utf-8")

    environment = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    for doc in docs:
        (out / doc.href).parent.mkdir(parents=True, exist_ok=True)
        (out / doc.href).write_text(copy_repository_links(render_doc(doc, pages, docs, environment), doc, out),
                                    encoding="utf-8")
    site = {"root": "", "links": []}
    solutions = {p.number: p.href for p in pages if p.kind == "solutions"}
    lessons = [{"number": int(p.number), "href": p.href, "title": p.title, "summary": p.summary,
                "solution_href": solutions.get(p.number)} for p in pages if p.kind == "lesson"]
    references = [{"href": doc.href, "title": doc.title} for doc in docs]
    (out / "index.html").write_text(environment.get_template("contents.html.j2").render(
        site=site, lessons=lessons, references=references), encoding="utf-8")
    (out / "search.html").write_text(environment.get_template("search.html.j2").render(site=site), encoding="utf-8")

    for asset in sorted(ASSETS.iterdir()):
        shutil.copy2(asset, out / "assets" / asset.name)
    shutil.copy2(mermaid_js, out / "assets" / "mermaid.min.js")
    licence = mermaid_js.parents[1] / "LICENSE"
    if licence.is_file():
        shutil.copy2(licence, out / "assets" / "mermaid.LICENSE")
    copy_widget_manager(out)
    index = [entry for page in pages + docs for entry in search_entries(page)]
    (out / "assets" / "search-index.js").write_text(
        "window.SITE_SEARCH_INDEX = " + json.dumps(index, ensure_ascii=False) + ";\n", encoding="utf-8")
    return pages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder (default: build/site)")
    args = parser.parse_args(argv)
    try:
        pages = build_site(args.out.resolve())
    except SiteBuildError as exc:
        print(f"build_site: {exc}", file=sys.stderr)
        return 2
    print(f"built {len(pages)} pages into {args.out}; open {args.out / 'index.html'} over HTTP "
          f"(python -m http.server -d {args.out})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
