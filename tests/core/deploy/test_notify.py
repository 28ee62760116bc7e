"""notify: the message, and a webhook that fails only warns, never naming its path."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest

from mlopsctl.core.deploy import notify
from mlopsctl.core.deploy.history import Release


class Hook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, object]]] = []
    status = 200

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        Hook.received.append(json.loads(self.rfile.read(length)))
        self.send_response(Hook.status)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = HTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/hooks/T000/SECRETPATH"
    httpd.shutdown()


def test_a_release_is_posted(server: str) -> None:
    Hook.received.clear()
    Hook.status = 200
    r = Release("staging", "v2", "deploy", "blue-green", "failed", 0.0, 2.5, "me")
    assert notify.send(server, notify.message("demo", r)) is None
    (payload,) = Hook.received
    assert "failed" in str(payload["text"]) and "v2" in str(payload["text"])


def test_a_failing_webhook_warns_without_its_path(server: str) -> None:
    Hook.status = 500
    warning = notify.send(server, {"text": "x"})
    assert warning is not None and "500" in warning and "SECRETPATH" not in warning


@pytest.mark.parametrize("url", ["ftp://x/y", "not a url", "http:///nohost"])
def test_a_url_that_is_no_webhook_warns(url: str) -> None:
    warning = notify.send(url, {})
    assert warning is not None and "webhook" in warning
