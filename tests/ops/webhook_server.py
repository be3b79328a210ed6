"""A loopback HTTP server standing in for a webhook robot: records every POST, answers as told."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from ports import free_port  # noqa: E402 (tests/ is on sys.path: tests/conftest.py)


class WebhookServer:
    """`mode`: "ok" (the kind's success answer), "error" (HTTP 500), "refuse" (HTTP 200 with an error code),
    "hang" (answer after `hang` seconds)."""

    def __init__(self, kind: str = "webhook", mode: str = "ok", hang: float = 30.0):
        self.kind, self.mode, self.hang = kind, mode, hang
        self.posts: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with outer.lock:
                    outer.posts.append({"path": self.path, "body": json.loads(body or b"{}"), "at": time.time()})
                if outer.mode == "hang":
                    time.sleep(outer.hang)
                code = 500 if outer.mode == "error" else 200
                if outer.kind == "feishu":
                    answer = {"code": 19021 if outer.mode == "refuse" else 0, "msg": "sign match fail"}
                else:
                    answer = {"errcode": 310000 if outer.mode == "refuse" else 0, "errmsg": "ok"}
                data = json.dumps(answer).encode()
                try:
                    self.send_response(code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/hook?key=test"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def __enter__(self) -> "WebhookServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def texts(self) -> list[str]:
        with self.lock:
            return [_text(p["body"]) for p in self.posts]


def _text(body: dict[str, Any]) -> str:
    if "text" in body and isinstance(body["text"], dict):
        return body["text"].get("content", "")
    if "content" in body and isinstance(body["content"], dict):
        return body["content"].get("text", "")
    return body.get("text", "")


