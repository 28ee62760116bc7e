"""Secrets of every shape stay hidden, in every output mlopsctl has.

PLANTED holds 40+ values of 20+ shapes (provider tokens, private keys, URL passwords holding
``@`` or ``/``, headers, base64 pairs, and plain values under secret key names). They go into
``.env``, a commit message, a ``--set`` word, a ``--debug`` traceback and a failing test's
output; the test counts every planted secret that any output prints, and the count must be 0.
detect-secrets, the well-kept detector, is the oracle for the shapes: whatever its pattern
plugins find in a planted value, mlopsctl's masking must remove.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.system.conftest import mlopsctl

PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEA7bq98f0QqkVw1d3bX6mNp1zQy4Qm2Xb9a0s6g8bPqV0Ww3Rt\n"
    "-----END RSA PRIVATE KEY-----"
)
PEM_BODY = "MIIEpAIBAAKCAQEA7bq98f0QqkVw1d3bX6mNp1zQy4Qm2Xb9a0s6g8bPqV0Ww3Rt"

# (key, value, the part that must never be printed, shape)
PLANTED = [
    ("DATABASE_URL", "postgres://app:p@ss/w0rd!@db:5432/app", "p@ss/w0rd!", "URL password with @ and /"),
    ("CACHE_URL", "redis://:hunter2cache@cache:6379/0", "hunter2cache", "URL password, no user"),
    ("BROKER_URL", "amqp://guest:Gu3st-Br0ker@rabbit:5672/", "Gu3st-Br0ker", "URL password"),
    ("MIRROR", "https://deploy:tok%40en99@pypi.example.com/simple", "tok%40en99", "URL password"),
    ("PAYMENTS", "sk_live_4eC39HqLyjWDarjtT1zdp7dc", "4eC39HqLyjWDarjtT1zdp7dc", "Stripe secret key"),
    ("PAYMENTS_RESTRICTED", "rk_test_51Habcdefghij0123456789", "51Habcdefghij0123456789", "Stripe restricted key"),
    ("MAPS", "AIzaSyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", "SyDaGmWKa4JsXZ-HjGw7ISLn_3namBGewQe", "Google API key"),
    ("MAIL", "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", "TwL2iGABf9DHoTf-09kqeF8tAmbihYzrnopKc", "SendGrid key"),
    ("REGISTRY", "npm_0123456789abcdefghijklmnopqrstuvwxyz", "0123456789abcdefghijklmnopqrstuvwxyz", "npm token"),
    ("TLS", PEM, PEM_BODY, "PEM private key"),
    ("SERVICE_JSON", json.dumps({"type": "service_account", "private_key": PEM}), PEM_BODY, "PEM key in a JSON value"),
    ("UPSTREAM_HEADER", "Authorization: Basic YWRtaW46czNjcjN0LXBhc3M=", "YWRtaW46czNjcjN0LXBhc3M=", "Basic header"),
    ("API_HEADER", "Bearer eyJhbGciOiJIUzI1NiJ9x.abcdefghi.jklmnopq", "eyJhbGciOiJIUzI1NiJ9x", "Bearer header"),
    ("BASIC_PAIR", "dXNlcjpzdXBlci1zZWNyZXQ=", "dXNlcjpzdXBlci1zZWNyZXQ=", "base64 user:password"),
    ("CI_READ", "ghp_abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz0123456789", "GitHub token"),
    ("CI_FINE", "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "11ABCDEFG0123456789_abcdefghij", "GitHub fine-grained token"),
    ("GITLAB", "glpat-abcdefghij0123456789", "abcdefghij0123456789", "GitLab token"),
    ("CHAT", "xoxb-123456789012-1234567890123-abcdefghijklmnopqrstuvwx", "1234567890123-abcdefghijklmnop", "Slack bot token"),
    ("ALERTS", "https://hooks.slack.com/services/T0000/B0000/XXXXXXXXXXXXXXXXXXXXXXXX", "XXXXXXXXXXXXXXXXXXXXXXXX", "Slack webhook"),
    ("AWS_ID", "AKIAIOSFODNN7EXAMPLE", "AKIAIOSFODNN7EXAMPLE", "AWS access key id"),
    ("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "wJalrXUtnFEMI/K7MDENG", "secret key name: AWS_SECRET_ACCESS_KEY"),
    ("LLM", "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789", "abcdefghijklmnopqrstuvwxyz0123456789", "OpenAI key"),
    ("HUB", "hf_abcdefghijklmnopqrstuvwxyzABCDEF", "abcdefghijklmnopqrstuvwxyzABCDEF", "Hugging Face token"),
    ("SESSION_DATA", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U", "JWT"),
    ("UPLOAD", "pypi-AgEIcHlwaS5vcmcCJDU3OTM5NjVkLTUxZjQtNDBlNy1iNGU2LTE3MTFkYjk2YTZmMwACJXsicGVybWlzc2lvbnMiOiAidXNlciIsICJ2ZXJzaW9uIjogMX0", "CJDU3OTM5NjVkLTUxZjQtNDBlNy1iNGU2LTE3MTFkYjk2YTZmMw", "PyPI token"),
    ("SMS", "AC0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef", "Twilio account SID"),
    ("NEWSLETTER", "0123456789abcdef0123456789abcdef-us12", "0123456789abcdef0123456789abcdef", "Mailchimp key"),
    ("BOT", "1234567890:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1", "AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw1", "Telegram bot token"),
    ("DISCORD", "MTIzNDU2Nzg5MDEyMzQ1Njc4.GabcDE.abcdefghijklmnopqrstuvwxyz0", "abcdefghijklmnopqrstuvwxyz0", "Discord bot token"),
    ("SQUARE", "sq0csp-ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghij", "Square OAuth secret"),
    ("SHOP", "shpat_0123456789abcdef0123456789abcdef", "0123456789abcdef0123456789abcdef", "Shopify token"),
    ("STORAGE", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=bXlrZXlteWtleW15a2V5bXlrZXk=;EndpointSuffix=core.windows.net", "bXlrZXlteWtleW15a2V5bXlrZXk=", "Azure connection string"),
    ("ENCRYPTION", "AGE-SECRET-KEY-1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ", "1QQQQQQQQQQQQQQQQQQQQQQQQQQQQQ", "age key"),
    ("APP_SETTINGS", '{"user": "svc", "password": "Tr0ub4dor&3x"}', "Tr0ub4dor&3x", "password field in JSON"),
    ("DSN_LINE", "host=db user=app password=c0rrect-h0rse sslmode=require", "c0rrect-h0rse", "libpq password field"),
    ("ADMIN_PW", "plain-admin-words", "plain-admin-words", "secret key name: ADMIN_PW"),
    ("DBPASS", "plain-db-words-1", "plain-db-words-1", "secret key name: DBPASS"),
    ("SECRETKEY", "plain-secret-words", "plain-secret-words", "secret key name: SECRETKEY"),
    ("client-secret", "plain-client-words", "plain-client-words", "secret key name: client-secret"),
    ("GITHUB_PAT", "plain-pat-words-22", "plain-pat-words-22", "secret key name: GITHUB_PAT"),
    ("SIGNING_SALT", "plain-salt-words", "plain-salt-words", "secret key name: SALT"),
    ("OAUTH_REFRESH_TOKEN", "plain-refresh-words", "plain-refresh-words", "secret key name: TOKEN"),
    ("X_API_KEY", "plain-apikey-words", "plain-apikey-words", "secret key name: API_KEY"),
]  # fmt: skip
BY_SHAPE = [p for p in PLANTED if not p[3].startswith("secret key name")]


def shapes() -> set[str]:
    """The shapes planted; every value found only by its key's name counts as one."""
    return {p[3].split(":")[0] for p in PLANTED}


def test_enough_values_and_shapes() -> None:
    assert len(PLANTED) >= 40
    assert len(shapes()) >= 20


def test_every_shape_detect_secrets_finds_is_masked() -> None:
    """The oracle: for every planted value, what detect-secrets' pattern plugins find is gone
    from mlopsctl's masking of it (entropy and keyword plugins are left out: they flag words,
    not shapes)."""
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    from mlopsctl.core.secrets import mask_text

    skip = {"Base64 High Entropy String", "Hex High Entropy String", "Secret Keyword",
            "Public IP (ipv4)"}  # fmt: skip
    plugins = [cls() for name, cls in get_mapping_from_secret_type_to_class().items()
               if name not in skip]  # fmt: skip
    found = 0
    for _, value, _, _ in PLANTED:
        for line in value.splitlines():
            masked = mask_text(line)
            for plugin in plugins:
                for secret in plugin.analyze_string(line):
                    if len(secret) >= 6:
                        found += 1
                        assert secret not in masked, (type(plugin).__name__, line, masked)
    assert found >= 15  # detect-secrets itself recognised at least that many


def leaks(text: str, planted: list[tuple[str, str, str, str]]) -> list[str]:
    return [f"{shape} ({key})" for key, _, secret, shape in planted if secret in text]


@pytest.fixture(scope="module")
def secret_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from mlopsctl.core.scaffold import create

    root = tmp_path_factory.mktemp("secrets") / "demo"
    create.plan_init(root, name="demo").apply()
    lines = []
    for key, value, _, _ in PLANTED:
        quoted = value.replace("\\", "\\\\").replace('"', '\\"')
        lines.append(f'{key}="{quoted}"')
    (root / ".env").write_text("\n".join(lines) + "\n")
    test = root / "tests/unit/test_1_1_leaky.py"
    values = [v for _, v, _, _ in BY_SHAPE]
    test.write_text(
        "import os\n\n\ndef test_prints_its_secrets():\n"
        f"    values = {values!r}\n"
        "    print('\\n'.join(values))\n"
        "    assert values == [], '\\n'.join(values)\n"
    )
    return root


def run(root: Path, *args: str, env: dict[str, str] | None = None) -> str:
    out = mlopsctl(root, *args, env=env)
    return out.stdout + out.stderr


def test_no_output_prints_a_planted_secret(secret_project: Path) -> None:
    root = secret_project
    printed: dict[str, list[str]] = {}
    printed["env show"] = leaks(run(root, "env", "show"), PLANTED)
    printed["env show --json"] = leaks(run(root, "env", "show", "--json"), PLANTED)
    printed["env check"] = leaks(run(root, "env", "check"), PLANTED)
    for _, value, secret, shape in BY_SHAPE:
        first = value.splitlines()[0]
        message = f"wip {first}"
        for args in (["check-commit", "-m", message], ["check-commit", "-m", message, "--json"]):
            printed.setdefault(" ".join(args[:1] + args[3:]), []).extend(
                leaks(run(root, *args), [("", "", secret, shape)])
            )
        # an error that echoes the word, with and without the traceback
        word = f"not-a-pair {first}"
        printed.setdefault("--set error", []).extend(
            leaks(run(root, "new-stage", "6.1", "x", "--set", word), [("", "", secret, shape)])
        )
        printed.setdefault("--debug traceback", []).extend(
            leaks(
                run(root, "new-stage", "6.1", "x", "--set", word, env={"MLOPSCTL_DEBUG": "1"}),
                [("", "", secret, shape)],
            )
        )
    printed["test (table)"] = leaks(run(root, "test", "unit", "--stage", "1.1"), BY_SHAPE)
    printed["test --json"] = leaks(run(root, "test", "unit", "--stage", "1.1", "--json"), BY_SHAPE)
    shown = {where: found for where, found in printed.items() if found}
    count = sum(len(found) for found in printed.values())
    sys.stdout.write(f"\nplanted {len(PLANTED)} values of {len(shapes())} shapes "
                     f"through {len(printed)} outputs: {count} printed\n")  # fmt: skip
    assert count == 0, json.dumps(shown, indent=1)


def test_the_pytest_usage_error_mlopsctl_relays_is_masked(secret_project: Path) -> None:
    token = "ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    out = mlopsctl(secret_project, "test", "unit", "--", f"--no-such-option={token}")
    assert out.returncode == 2
    printed = out.stdout + out.stderr
    assert token[4:] not in printed and "********" in printed


def test_debug_tracebacks_are_masked(secret_project: Path) -> None:
    url = "postgres://app:tracebacked-pw@db/x"
    out = subprocess.run(
        [sys.executable, "-m", "mlopsctl", "new-stage", "6.1", "x", "--set", url],
        cwd=secret_project, capture_output=True, text=True,
        env={**os.environ, "MLOPSCTL_DEBUG": "1"},
    )  # fmt: skip
    assert "Traceback" in out.stderr
    assert "tracebacked-pw" not in out.stderr
