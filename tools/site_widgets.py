"""The static site's widgets: a widget output whose state the notebook saved is drawn from that state by the
ipywidgets html-manager (copied from ``node_modules``); any other shows its text form under a note."""
from __future__ import annotations

import html
import json
import shutil
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
HTML_MANAGER_DIST = ROOT / "node_modules" / "@jupyter-widgets" / "html-manager" / "dist"
WIDGET_VIEW_MIME = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE_MIME = "application/vnd.jupyter.widget-state+json"
FONT_SUFFIXES = {".woff2", ".woff", ".ttf", ".eot", ".svg"}


WIDGET_NOTE = ("An interactive widget: it works when you run the notebook (JupyterLab, or Binder). "
               "What it showed when the lesson was saved, as text:")


def saved_widget_models(notebook: nbformat.NotebookNode) -> set[str]:
    """The ids of the widget models whose state the notebook saved when it ran (its ``widgets`` metadata)."""
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE_MIME, {})
    return set(state.get("state", {})) if state.get("version_major") == 2 else set()


def with_saved_widgets(notebook: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy where each widget output whose state was saved stays a widget view (the page's html-manager draws
    it from that state, no kernel needed); any other widget output shows its text/plain under a note."""
    notebook = nbformat.from_dict(json.loads(json.dumps(notebook)))
    saved = saved_widget_models(notebook)
    if not saved:
        notebook.metadata.pop("widgets", None)
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if WIDGET_VIEW_MIME not in data or data[WIDGET_VIEW_MIME].get("model_id") in saved:
                continue
            data.pop(WIDGET_VIEW_MIME)
            if "text/plain" in data:
                data["text/html"] = (f'<div class="widget-fallback"><p>{WIDGET_NOTE}</p>'
                                     f'<pre>{html.escape(data["text/plain"], quote=False)}</pre></div>')
    return notebook


def copy_widget_manager(out: Path, dist: Path = HTML_MANAGER_DIST) -> None:
    """The html-manager's standalone script, its licence and the fonts it loads (next to itself) into the site."""
    target = out / "assets" / "widgets"
    target.mkdir(parents=True, exist_ok=True)
    for source in dist.iterdir():
        if source.name in ("embed.js", "embed.js.LICENSE.txt") or source.suffix in FONT_SUFFIXES:
            shutil.copy2(source, target / source.name)
    licence = dist.parent / "LICENSE"
    if licence.is_file():
        shutil.copy2(licence, target / "html-manager.LICENSE")
