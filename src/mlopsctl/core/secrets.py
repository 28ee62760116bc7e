"""Telling secrets apart, by the name of a variable and by the shape of a value.

A key such as ``DATABASE_URL`` looks harmless while its value holds a password, so a value
is masked when either its key names a secret or the value itself carries one: credentials
inside a URL (``user:pass@``), connection-string fields (``Password=``, ``AccountKey=``,
``SharedAccessKey=``), well-known token shapes (GitHub, GitLab, Slack, Hugging Face, AWS,
OpenAI-style ``sk-``, JWTs) and webhook URLs, whose path is the secret. :func:`mask_text`
applies the value rules to any text mlopsctl prints (errors, warnings, release messages).
"""

from __future__ import annotations

import re

MASK = "********"

# Key names that hold secrets: whole words of the name (DB_PASS, GITHUB_PAT, HF_TOK).
SECRET_KEY = re.compile(
    r"(?:^|_)(?:SECRETS?|TOKENS?|TOK|PAT|PASSWORDS?|PASSWD|PASS|PWD|PASSPHRASE|KEYS?|"
    r"APIKEY|CREDENTIALS?|CREDS?|PRIVATE|AUTH|DSN|WEBHOOK|HOOK|SIGNATURE|SALT|COOKIE|"
    r"SESSION|CERT|CONN(?:ECTION)?_?STRING)(?:_|$)"
)
_URL_CREDENTIALS = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^/\s:@]*):(?P<pw>[^/\s@]+)@"
)
_CONN_FIELD = re.compile(
    r"(?i)(?P<key>\b(?:password|pwd|accountkey|sharedaccesskey|sharedaccesssignature|"
    r"secret|token|apikey|api_key|access_key|secret_key|sig)=)(?P<value>[^;&\s]+)"
)
_TOKENS = re.compile(
    r"\b(?:"
    r"gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{20,}|"
    r"xox[abposr]-[A-Za-z0-9-]{10,}|hf_[A-Za-z0-9]{20,}|"
    r"(?:AKIA|ASIA)[A-Z0-9]{16}|sk-[A-Za-z0-9_-]{20,}|"
    r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r")"
)
_WEBHOOK = re.compile(
    r"(?P<base>https?://(?:hooks\.slack\.com|discord(?:app)?\.com/api/webhooks|"
    r"[A-Za-z0-9.-]*webhook[A-Za-z0-9.-]*|outlook\.office\.com/webhook|"
    r"[A-Za-z0-9.-]+/(?:hooks?|webhooks?))(?:[^\s/]*))(?P<path>/[^\s'\"]+)",
    re.IGNORECASE,
)


def is_secret_key(key: str) -> bool:
    return bool(SECRET_KEY.search(key.upper()))


def value_has_secret(value: str) -> bool:
    return mask_text(value) != value


def mask_text(text: str) -> str:
    """``text`` with every secret-shaped value in it replaced by the mask."""
    if not text:
        return text
    text = _URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    text = _CONN_FIELD.sub(lambda m: f"{m['key']}{MASK}", text)
    text = _TOKENS.sub(MASK, text)
    return _WEBHOOK.sub(lambda m: f"{m['base']}/{MASK}", text)


def shown(key: str, value: str | None) -> str | None:
    """What to print for ``key=value``: the mask for a secret key, else the value masked."""
    if value is None or value == "":
        return value
    if is_secret_key(key):
        return MASK
    return mask_text(value)


def find_in_files(root: object, paths: list[str], limit: int = 2_000_000) -> list[str]:
    """``path:line`` of every token-shaped secret (GitHub, AWS, Slack... keys, URL
    credentials) in the text files ``paths`` under ``root``."""
    import os

    found = []
    for rel in paths:
        full = os.path.join(str(root), rel)
        try:
            if os.path.islink(full) or os.path.getsize(full) > limit:
                continue
            with open(full, "rb") as fh:
                data = fh.read()
        except OSError:
            continue
        if b"\0" in data[:4096]:
            continue  # binary
        text = data.decode("utf-8", "replace")
        if not (_TOKENS.search(text) or _URL_CREDENTIALS.search(text)):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if _TOKENS.search(line) or _URL_CREDENTIALS.search(line):
                found.append(f"{rel}:{number}")
    return found
