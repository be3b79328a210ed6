"""One webhook kind each: the URL to post to and the JSON body, signed where the kind signs.

* WeCom (企业微信) group robot: ``{"msgtype": "text", "text": {"content": ...}}``; answers ``{"errcode": 0}``.
* DingTalk (钉钉) robot: the same shape; with a signing secret the URL gains ``timestamp`` (ms) and
  ``sign`` = urlencode(base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}"))); answers ``{"errcode": 0}``.
* Feishu (飞书) bot: ``{"msg_type": "text", "content": {"text": ...}}``; with a secret the body gains
  ``timestamp`` (s) and ``sign`` = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""));
  answers ``{"code": 0}`` (older bots: ``{"StatusCode": 0}``).
* Generic webhook: the alert as JSON (kind, level, title, text, ts, account, data); any 2xx is success.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import urllib.parse
from typing import Any

from hub.alerts.config import TargetConfig
from hub.alerts.rules import Alert

#: Longest text a robot is sent (WeCom caps text at 2048 bytes, DingTalk and Feishu near that).
MAX_TEXT = 1800


def _clip(text: str) -> str:
    data = text.encode("utf-8")
    if len(data) <= MAX_TEXT:
        return text
    return data[:MAX_TEXT - 20].decode("utf-8", "ignore") + "\n...(truncated)"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp_ms}\n{secret}".encode("utf-8"), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode("ascii"))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode("utf-8"), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode("ascii")


def render(alert: Alert, account: str = "", note: str = "") -> str:
    """The text a person reads: level, title, account, then the details."""
    head = f"[qmt-hub {alert.level.name}] {alert.title}"
    if account:
        head += f" ({account})"
    body = f"{head}\n{alert.text}"
    if note:
        body += f"\n{note}"
    return _clip(body)


def request_for(target: TargetConfig, alert: Alert, account: str = "", note: str = "",
                now: float | None = None) -> tuple[str, dict[str, Any]]:
    """(url, JSON body) of one message to `target`."""
    now = time.time() if now is None else now
    text = render(alert, account, note)
    if target.kind in ("wecom", "dingtalk"):
        url = target.url
        if target.kind == "dingtalk" and target.secret:
            ts = int(now * 1000)
            url += ("&" if "?" in url else "?") + f"timestamp={ts}&sign={dingtalk_sign(target.secret, ts)}"
        return url, {"msgtype": "text", "text": {"content": text}}
    if target.kind == "feishu":
        body: dict[str, Any] = {"msg_type": "text", "content": {"text": text}}
        if target.secret:
            ts = int(now)
            body.update(timestamp=str(ts), sign=feishu_sign(target.secret, ts))
        return target.url, body
    return target.url, {"kind": alert.kind, "level": alert.level.name.lower(), "title": alert.title,
                        "text": text, "ts": alert.ts or now, "account": account, "data": dict(alert.data)}


def accepted(target: TargetConfig, status: int, body: bytes) -> tuple[bool, str]:
    """Did the target take the message? (ok, what it said)."""
    if not 200 <= status < 300:
        return False, f"HTTP {status}"
    if target.kind == "webhook":
        return True, ""
    try:
        answer = json.loads(body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError):
        return False, f"not JSON: {body[:80]!r}"
    if not isinstance(answer, dict):
        return False, f"unexpected answer {answer!r:.80}"
    if target.kind == "feishu":
        code = answer.get("code", answer.get("StatusCode", 0))
        return code == 0, "" if code == 0 else f"code {code}: {answer.get('msg') or answer.get('StatusMessage')}"
    code = answer.get("errcode", 0)
    return code == 0, "" if code == 0 else f"errcode {code}: {answer.get('errmsg')}"
