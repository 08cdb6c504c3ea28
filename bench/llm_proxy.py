"""A loopback proxy in front of an OpenAI-compatible server that fails requests on demand.

Every request is passed on to the real server unchanged, until :meth:`FailingProxy.fail_from` arms
a fault: from the Nth chat completion on, each one is answered with HTTP 500 (``5xx``) or held
without an answer longer than the client waits (``timeout``), as a server that breaks down
mid-search does. :meth:`FailingProxy.clear` passes everything on again, at the same URL, so a
re-run runs with the very settings (and recipe hash) of the failed run.
"""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

COMPLETIONS = "/chat/completions"


@dataclass
class Fault:
    kind: str  # "5xx" or "timeout"
    from_request: int  # the first failed chat completion (1-based)
    hold_seconds: float = 0.0  # timeout: how long a request is held before the connection is dropped


class FailingProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = upstream.rstrip("/")  # ends in /v1
        self.lock = threading.Lock()
        self.completions = 0  # chat completions seen since the last arm/clear
        self.failed = 0
        self.fault: Fault | None = None
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                proxy._forward(self, None)

            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                proxy._forward(self, body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FailingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail_from(self, fault: Fault) -> None:
        with self.lock:
            self.fault, self.completions, self.failed = fault, 0, 0

    def clear(self) -> None:
        with self.lock:
            self.fault, self.completions, self.failed = None, 0, 0

    def _forward(self, handler: http.server.BaseHTTPRequestHandler, body: bytes | None) -> None:
        path = handler.path.removeprefix("/v1")
        fault = None
        if path.startswith(COMPLETIONS):
            with self.lock:
                self.completions += 1
                if self.fault is not None and self.completions >= self.fault.from_request:
                    fault, self.failed = self.fault, self.failed + 1
        if fault is not None and fault.kind == "timeout":
            time.sleep(fault.hold_seconds)  # the client gave up before: then drop the connection unanswered
            handler.close_connection = True
            return
        if fault is not None:
            self._answer(handler, 500, json.dumps({"error": {"message": "injected server error", "type": "server_error"}}).encode())
            return
        request = urllib.request.Request(self.upstream + path, data=body, method=handler.command)
        for name in ("Content-Type", "Authorization", "Accept"):
            if handler.headers.get(name):
                request.add_header(name, handler.headers[name])
        try:
            with urllib.request.urlopen(request, timeout=600) as answer:
                self._answer(handler, answer.status, answer.read(), answer.headers.get("Content-Type"))
        except urllib.error.HTTPError as error:
            self._answer(handler, error.code, error.read(), error.headers.get("Content-Type"))

    @staticmethod
    def _answer(handler: http.server.BaseHTTPRequestHandler, status: int, payload: bytes, content_type: str | None = None) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", content_type or "application/json")
        handler.send_header("Content-Length", str(len(payload)))
        handler.end_headers()
        handler.wfile.write(payload)
