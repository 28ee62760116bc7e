"""The argparse front end of the fast commands; what it cannot take goes to Typer.

Usage errors (and the interactive prompt of ``init``) are rare, so they are handed to the
Typer application, which shows its own usage message: the user sees one CLI, whichever
front end parsed the line.
"""

from __future__ import annotations

import argparse
from typing import NoReturn


class NotFast(Exception):
    """These arguments need the Typer application (a usage error, a prompt)."""


class Parser(argparse.ArgumentParser):
    def __init__(self, command: str) -> None:
        # no abbreviations: click takes only whole option names
        super().__init__(prog=f"mlopsctl {command}", add_help=False, allow_abbrev=False)

    def error(self, message: str) -> NoReturn:
        raise NotFast(message)
