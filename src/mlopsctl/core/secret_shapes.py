"""The value shapes of secrets, compiled: imported by :mod:`mlopsctl.core.secrets` only when a
text could hold one (compiling them costs a few milliseconds, which a hook that prints a plain
commit subject does not pay). See that module for what they cover and why.
"""

from __future__ import annotations

import re

URL_CREDENTIALS = re.compile(
    r"(?P<scheme>\b[A-Za-z][A-Za-z0-9+.-]*://)(?P<user>[^\s:/@\"'<>]*):"
    r"(?P<pw>[^\s\"'<>]+)@(?=[^\s@\"'<>]*)"
)
FIELD = re.compile(
    r"(?i)(?P<key>\b(?:password|passwd|pwd|pass|accountkey|sharedaccesskey|"
    r"sharedaccesssignature|client_secret|secret|secret_key|token|access_token|refresh_token|"
    r"apikey|api_key|api-key|access_key|auth_token|sig)\b"
    r"(?:\"|')?\s*(?:=|:)\s*(?:\"|')?)(?P<value>[^;&\s\"',}]+)"
)
HEADER = re.compile(
    r"(?P<scheme>\b(?:[Bb]asic|[Bb]earer|BASIC|BEARER|Token|Digest)\s+)(?P<value>[A-Za-z0-9._~+/=-]{8,})"
)
TOKENS = re.compile(
    r"(?:"
    r"\bgh[pousr]_[A-Za-z0-9]{20,}|\bgithub_pat_[A-Za-z0-9_]{20,}|"
    r"\bgl(?:pat|dt|rt|ptt|cbt|oas)-[A-Za-z0-9_-]{20,}|"
    r"\bxox[abposre]-[A-Za-z0-9-]{10,}|\bhf_[A-Za-z0-9]{20,}|"
    r"\b(?:AKIA|ASIA|AGPA|AIDA|AROA|AIPA|ANPA|ANVA|A3T[A-Z0-9])[A-Z0-9]{16}\b|"
    r"\bsk-[A-Za-z0-9_-]{20,}|"
    r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{10,}|"
    r"\bAIza[0-9A-Za-z_-]{35}|"
    r"\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}|"
    r"\bnpm_[A-Za-z0-9]{36}\b|"
    r"\bpypi-AgEIcHlwaS5vcmc[A-Za-z0-9_-]{20,}|"
    r"\b[0-9a-f]{32}-us[0-9]{1,2}\b|"
    r"\b(?:AC|SK)[0-9a-f]{32}\b|"
    r"\b[0-9]{8,10}:AA[0-9A-Za-z_-]{33}\b|"
    r"\b[MNO][A-Za-z0-9_-]{23,25}\.[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]{27,}|"
    r"\bsq0(?:csp|atp)-[0-9A-Za-z_-]{22,43}|\bEAAA[0-9A-Za-z_-]{60}\b|"
    r"\bAKC[A-Za-z0-9]{10,}|"
    r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b|"
    r"\bAGE-SECRET-KEY-1[0-9A-Z]{58}\b|"
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"
    r")"
)
# a PEM private key, whole (also with its newlines written as \n inside a JSON value), or
# from its first line on when the rest is not in the text
PEM = re.compile(
    r"-----BEGIN (?P<kind>[A-Z0-9 ]*)PRIVATE KEY(?: BLOCK)?-----"
    r"(?:.*?-----END (?P=kind)PRIVATE KEY(?: BLOCK)?-----|[^\"'\n]*)",
    re.DOTALL,
)
WEBHOOK = re.compile(
    r"(?P<base>https?://(?:hooks\.slack\.com|discord(?:app)?\.com/api/webhooks|"
    r"[A-Za-z0-9.-]*webhook[A-Za-z0-9.-]*|outlook\.office\.com/webhook|"
    r"[A-Za-z0-9.-]+/(?:hooks?|webhooks?))(?:[^\s/]*))(?P<path>/[^\s'\"]+)",
    re.IGNORECASE,
)
BASE64 = re.compile(r"(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{12,}={0,2}(?![A-Za-z0-9+/=])")
PAIR = re.compile(r"[\x21-\x7e]{1,64}:[\x21-\x7e]{3,}")
LONG_BASE64 = re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{40,}={0,2}(?![A-Za-z0-9+/=])")
