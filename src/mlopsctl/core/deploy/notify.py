"""Slack-compatible webhook notifications; a failing webhook is a warning, never a failure."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from typing import Any

from mlopsctl.core.config import Config
from mlopsctl.core.secrets import mask_text


def webhook_url(config: Config) -> str | None:
    url: str | None = os.environ.get("MLOPS_NOTIFY_WEBHOOK") or config.section("notify")["webhook"]
    return url


def message(project: str, release: Any) -> dict[str, Any]:
    ok = release.outcome == "success"
    icon = ":white_check_mark:" if ok else ":x:"
    text = (
        f"{icon} {project}: {release.action} of {release.version} to {release.environment} "
        f"{'succeeded' if ok else 'failed'} ({release.strategy}, {release.duration:.1f}s)"
    )
    return {
        "text": text,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}}],
        "mlopsctl": {k: v for k, v in release.as_dict().items() if k != "image_ids"},
    }


def send(url: str, payload: dict[str, Any], timeout: float = 5.0) -> str | None:
    """POST ``payload``; None on success, else a warning sentence (the URL never in it: its
    path is the secret)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return "the notification webhook is not a valid URL; check notify.webhook"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "the notification webhook must be an http(s) URL; check notify.webhook"
    where = f"{parts.scheme}://{parts.hostname}"
    request = urllib.request.Request(
        url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if response.status >= 300:
                return f"the notification webhook at {where} answered {response.status}"
    except urllib.error.HTTPError as exc:
        return f"the notification webhook at {where} answered {exc.code}"
    except urllib.error.URLError as exc:
        return f"the notification webhook at {where} failed ({mask_text(str(exc.reason))})"
    except (OSError, ValueError) as exc:
        return f"the notification webhook at {where} failed ({type(exc).__name__})"
    return None
