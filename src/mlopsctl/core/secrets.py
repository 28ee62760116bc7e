"""Telling secrets apart, by the name of a variable and by the shape of a value.

A key such as ``DATABASE_URL`` looks harmless while its value holds a password, so a value
is masked when either its key names a secret or the value itself carries one. The shapes are
those of detect-secrets' plugins (AWS, Azure, Artifactory, basic auth, Discord, GitHub, GitLab,
JWT, Mailchimp, npm, OpenAI, private keys, PyPI, SendGrid, Slack, Square, Stripe, Telegram,
Twilio) plus Google API keys, Hugging Face, Shopify and age keys, credentials inside a URL
(``user:pass@``, the password holding ``@`` or ``/`` too), connection-string and
``key: value`` fields, ``Authorization`` header values, base64 ``user:password`` pairs and
webhook URLs, whose path is the secret. The test suite checks these patterns against
detect-secrets itself; they are compiled here rather than imported from it because its
plugins import ``requests`` (about 130 ms), and :func:`mask_text` runs on every line that
mlopsctl prints for errors, warnings and commit messages, hooks included.
"""

from __future__ import annotations

import re

MASK = "********"

# Key names that hold secrets. Parts that are secrets wherever they stand in a name
# (DBPASS, SECRETKEY, CLIENT_SECRET) and parts that are only as a whole word (ADMIN_PW,
# GITHUB_PAT, AWS_KEY: not MONKEY).
SECRET_KEY = re.compile(
    r"PASS|PWD|SECRET|TOKEN|APIKEY|API_KEY|CREDENTIAL|PRIVATE|WEBHOOK|AUTHORI[SZ]ATION|"
    r"(?:^|_)(?:PW|KEYS?|PAT|TOK|AUTH|DSN|HOOK|SIG|SIGNATURE|SALT|COOKIE|SESSION|SESSID|"
    r"CERT|CREDS?|CONN(?:ECTION)?_?STRING|OTP|PIN)(?:_|$)"
)
# a cheap first look: text with none of these holds none of the shapes
_MAYBE = re.compile(
    r"://|-----BEGIN|=|[A-Za-z0-9_+/.-]{12,}|(?i:pass|pwd|secret|token|key|sig|auth|bearer|basic)"
)


def is_secret_key(key: str) -> bool:
    return bool(SECRET_KEY.search(key.upper().replace("-", "_").replace(".", "_")))


def value_has_secret(value: str) -> bool:
    return mask_text(value) != value


def _base64_pair(match: re.Match[str]) -> str:
    from mlopsctl.core.secret_shapes import PAIR

    """A base64 word that decodes to ``user:password`` (a Basic credential out of its
    header) is masked; any other base64 word is left."""
    word = match.group(0)
    if len(word) % 4:
        return word
    import binascii

    try:
        text = binascii.a2b_base64(word).decode("ascii")
    except (binascii.Error, UnicodeDecodeError):
        return word
    return MASK if PAIR.fullmatch(text) else word


def mask_text(text: str) -> str:
    """``text`` with every secret-shaped value in it replaced by the mask."""
    if not text or not _MAYBE.search(text):
        return text
    from mlopsctl.core import secret_shapes as s

    text = s.PEM.sub(MASK, text)
    text = s.URL_CREDENTIALS.sub(lambda m: f"{m['scheme']}{m['user']}:{MASK}@", text)
    text = s.FIELD.sub(lambda m: f"{m['key']}{MASK}", text)
    text = s.HEADER.sub(lambda m: f"{m['scheme']}{MASK}", text)
    text = s.TOKENS.sub(MASK, text)
    text = s.WEBHOOK.sub(lambda m: f"{m['base']}/{MASK}", text)
    text = s.BASE64.sub(_base64_pair, text)
    return s.LONG_BASE64.sub(_high_entropy, text)


def _high_entropy(match: re.Match[str]) -> str:
    """A long base64 word of mixed case and digits with detect-secrets' entropy limit (4.5
    bits a character): key material, such as a private key's lines cut from their header.
    Hex digests (one case) and words are left."""
    word = match.group(0)
    if not (any(c.isupper() for c in word) and any(c.islower() for c in word)
            and any(c.isdigit() for c in word)):  # fmt: skip
        return word
    import math
    from collections import Counter

    counts = Counter(word.rstrip("="))
    n = sum(counts.values())
    entropy = -sum(c / n * math.log2(c / n) for c in counts.values())
    return MASK if entropy > 4.5 else word


class LineMasker:
    """:func:`mask_text` for output that arrives a line at a time: the lines of a private
    key between its BEGIN and END lines are masked too, though no one of them shows a shape."""

    def __init__(self) -> None:
        self.in_key = False

    def line(self, text: str) -> str:
        if self.in_key:
            if "-----END " in text:
                self.in_key = False
            return MASK + ("\n" if text.endswith("\n") else "")
        if "PRIVATE" in text and "-----BEGIN " in text:  # (a diff may split the header)
            after = text[text.index("-----BEGIN ") :]
            self.in_key = "-----END " not in after
        return mask_text(text)


def shown(key: str, value: str | None) -> str | None:
    """What to print for ``key=value``: the mask for a secret key, else the value masked."""
    if value is None or value == "":
        return value
    if is_secret_key(key):
        return MASK
    return mask_text(value)


def _finds(text: str) -> bool:
    from mlopsctl.core import secret_shapes as s

    return bool(s.TOKENS.search(text) or s.URL_CREDENTIALS.search(text) or s.PEM.search(text))


def find_in_files(root: object, paths: list[str], limit: int = 2_000_000) -> list[str]:
    """``path:line`` of every token-shaped secret (GitHub, AWS, Slack... keys, URL
    credentials, private keys) in the text files ``paths`` under ``root``."""
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
        if not _finds(text):
            continue
        for number, line in enumerate(text.splitlines(), 1):
            if _finds(line):
                found.append(f"{rel}:{number}")
    return found
