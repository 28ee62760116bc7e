"""Project hygiene: secrets stay out of git and the package imports."""

import importlib
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = re.compile(r"SECRET|TOKEN|PASSWORD|PASSWD|CREDENTIAL|PRIVATE|API_KEY|_KEY$")


def test_env_file_is_git_ignored() -> None:
    ignored = {line.strip() for line in (ROOT / ".gitignore").read_text().splitlines()}
    assert ".env" in ignored


def test_env_template_holds_no_secret_values() -> None:
    leaks = []
    for line in (ROOT / ".env.template").read_text().splitlines():
        key, sep, value = line.partition("=")
        if sep and not line.lstrip().startswith("#") and SECRET_KEY.search(key) and value.strip():
            leaks.append(key)
    assert leaks == [], f".env.template carries values for secret keys: {leaks}"


def test_package_imports() -> None:
    packages = [p for p in (ROOT / "src").iterdir() if (p / "__init__.py").is_file()]
    assert packages, "src/ holds no package"
    for package in packages:
        module = importlib.import_module(package.name)
        assert module.__version__
