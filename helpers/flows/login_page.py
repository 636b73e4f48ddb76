"""The login-page reader: the forms, links, error texts and web_message of a hosted login page.

One reader for every client of the sandbox's pages: the flows' simulated browser, the tests' drivers, the bench.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin

import requests

from .records import HttpExchange


@dataclass
class LoginForm:
    """A form on a page: where it posts (and how), its inputs and its named buttons."""

    action: str
    id: str | None
    method: str = "get"
    fields: dict[str, str] = field(default_factory=dict)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class LoginPage(HTMLParser):
    """The parts of a hosted login page a browser needs: forms, links by id, error texts, a web_message."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[LoginForm] = []
        self.links: dict[str, str] = {}
        self.texts: dict[str, str] = {}
        self.script = ""
        self._capture: str | None = None
        self.status = 0
        self.exchange: HttpExchange | None = None

    @classmethod
    def read(cls, html: str, status: int = 0, exchange: HttpExchange | None = None) -> LoginPage:
        """Read a page's HTML (``status`` and ``exchange`` are kept for the errors a browser raises on it)."""
        page = cls()
        page.status, page.exchange = status, exchange
        page.feed(html)
        page.close()
        return page

    @classmethod
    def parse(cls, response: requests.Response, exchange: HttpExchange | None = None) -> LoginPage:
        """Read the page a ``requests`` response carries."""
        return cls.read(response.text, response.status_code, exchange)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append(LoginForm(a.get("action", ""), a.get("id"), a.get("method") or "get"))
        elif tag == "input" and self.forms and a.get("name"):
            self.forms[-1].fields[a["name"]] = a.get("value", "")
        elif tag == "button" and self.forms and a.get("name"):
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))
        elif tag == "a" and a.get("id") and a.get("href"):
            self.links[a["id"]] = a["href"]
        if a.get("id") in ("error-code", "error-description", "error-message"):
            self._capture = a["id"]
        elif tag == "script":
            self._capture = "script"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("strong", "span", "div", "script"):
            self._capture = None

    def handle_data(self, data: str) -> None:
        if self._capture == "script":
            self.script += data
        elif self._capture:
            self.texts[self._capture] = self.texts.get(self._capture, "") + data

    def form(self, form_id: str) -> LoginForm | None:
        return next((f for f in self.forms if f.id == form_id), None)

    @property
    def error_code(self) -> str:
        return self.texts.get("error-code", "").strip()

    @property
    def error_description(self) -> str:
        return self.texts.get("error-description", "").strip()

    def web_message(self) -> dict[str, str] | None:
        match = re.search(r'type:\s*"authorization_response",\s*response:\s*(\{.*?\})\s*\}', self.script, re.S)
        return json.loads(match.group(1)) if match else None


def password_login(page: LoginPage, url: str, email: str, password: str) -> tuple[str, dict[str, str]]:
    """The one password login: the URL the login form posts to and its data, as a browser sends them.

    The form's hidden inputs (``state``) go back as they are, with the email and password filled in and the
    pressed button (the first named one), which is part of what a browser sends.
    """
    form = page.form("login-form")
    if form is None:
        raise ValueError(f"No login form on {url}.")
    return urljoin(url, form.action), dict(form.fields, **dict(form.buttons[:1]), username=email, password=password)

