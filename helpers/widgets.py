"""Thin ipywidgets views over the helpers: each widget calls one pure function and shows its result.

Widgets write into their Output with ``append_display_data`` (never ``with out: print(...)``), so
lessons stay comparable under strict nbval.
"""
from __future__ import annotations

import html
import json
from typing import Any, Callable, Sequence

import ipywidgets as w
import pandas as pd
from IPython.display import HTML

from .endpoints import ENDPOINTS, EndpointAnswer, answers_table
from .jwe import protected_header
from .tokens import NotAJwt, anatomy_html, explain


def _show(out: w.Output, *items: Any) -> None:
    """Replace what an Output shows."""
    out.outputs = ()
    for item in items:
        out.append_display_data(item)


def as_text(box: w.Box) -> str:
    """What a widget's Output (its last child) shows, as text: its printable form for a static page."""
    return "\n".join(item.get("data", {}).get("text/plain", "") for item in box.children[-1].outputs)


def token_inspector(token: str = "", now: Callable[[], float] | None = None) -> w.VBox:
    """Paste a token: see its coloured parts and every claim explained (nothing is verified)."""
    box = w.Textarea(value=token, placeholder="Paste a JWT (ID token or access token)",
                     layout=w.Layout(width="100%", height="80px"))
    out = w.Output()

    def render(_: Any = None) -> None:
        value = box.value.strip()
        if not value:
            _show(out, HTML("<i>Paste a token above.</i>"))
            return
        try:
            _show(out, HTML(anatomy_html(value)), explain(value, now=now() if now else None))
        except NotAJwt as exc:
            header = protected_header(value)
            if header is not None:
                _show(out, HTML("<b>An encrypted token (JWE):</b> only its header is readable, "
                                f"<code>{html.escape(json.dumps(header))}</code>; the rest only the identity "
                                "provider that issued it can decrypt (an access token of a login without audience)."))
            else:
                _show(out, HTML(f"<b>Not a JWT:</b> {exc}. Opaque tokens can only be checked by their issuer."))

    box.observe(render, names="value")
    render()
    return w.VBox([box, out])


def error_explorer(catalog: pd.DataFrame) -> w.VBox:
    """Search the error catalog by any word: code, message, cause or fix."""
    query = w.Text(placeholder="Search: a code, a message, a word of the cause...")
    out = w.Output()
    columns = [c for c in ("code", "layer", "message", "http_status", "cause", "fix") if c in catalog.columns]

    def render(_: Any = None) -> None:
        text = query.value.strip().lower()
        if text:
            mask = catalog.astype(str).apply(lambda col: col.str.lower().str.contains(text, regex=False)).any(axis=1)
            found = catalog[mask]
        else:
            found = catalog
        _show(out, found[columns])

    query.observe(render, names="value")
    render()
    return w.VBox([query, out])


def graphql_playground(send: Callable[[str, str | None], Any], tokens: dict[str, str | None],
                       query: str = "{ user { id email } }") -> w.VBox:
    """Pick a token, edit a query, send it: see the API's answer. ``send(query, token)`` does the call."""
    editor = w.Textarea(value=query, layout=w.Layout(width="100%", height="90px"))
    which = w.Dropdown(options=list(tokens), description="token")
    button = w.Button(description="Send", button_style="primary")
    out = w.Output()

    def run(_: Any = None) -> None:
        _show(out, send(editor.value, tokens[which.value]))

    button.on_click(run)
    return w.VBox([w.HBox([which, button]), editor, out])


def flow_stepper(steps: list[tuple[str, Callable[[], Any]]]) -> w.VBox:
    """Walk through a flow one step at a time: each click runs the next step and shows what it returned."""
    title = w.HTML()
    button = w.Button(description="Next step", button_style="primary")
    out = w.Output()
    position = {"next": 0}

    def label() -> None:
        index = position["next"]
        title.value = (f"<b>Step {index + 1} of {len(steps)}:</b> {steps[index][0]}" if index < len(steps)
                       else "<b>Done.</b> Every step ran.")
        button.disabled = index >= len(steps)

    def step(_: Any = None) -> None:
        name, action = steps[position["next"]]
        result = action()
        position["next"] += 1
        _show(out, HTML(f"<b>{name}</b>"), result)
        label()

    button.on_click(step)
    label()
    return w.VBox([title, button, out])


def token_to_endpoint(send: Callable[[str, str], EndpointAnswer], tokens: dict[str, str],
                      endpoints: Sequence[str] = ENDPOINTS) -> w.VBox:
    """Pick a token and an endpoint, press Send: ``send(endpoint, token)`` does the call (``send_token``), and the
    table below keeps the latest answer of each pair, so two tokens and two endpoints end as four rows."""
    which = w.Dropdown(options=list(tokens), description="token")
    where = w.Dropdown(options=list(endpoints), description="send to")
    button = w.Button(description="Send", button_style="primary")
    out = w.Output()
    answers: dict[tuple[str, str], EndpointAnswer] = {}

    def run(_: Any = None) -> None:
        answers[which.value, where.value] = send(where.value, tokens[which.value])
        with pd.option_context("display.max_colwidth", None, "display.width", 200):   # whole answers as text
            _show(out, answers_table(answers))

    button.on_click(run)
    _show(out, HTML("<i>Pick a token and an endpoint, then press Send.</i>"))
    return w.VBox([w.HBox([which, where, button]), out])
