"""Command lines to command objects, from the table in :mod:`mlopsctl.cli.commands`.

This is the parser every command runs through; it follows click's rules (an option that
takes a value takes the next word whatever it is, ``--opt=value`` and ``-ovalue`` work, the
last of a repeated option wins, ``--`` ends the options, no abbreviations), so that the
Typer application built from the same table accepts exactly the same lines. Anything it
does not accept raises :class:`Usage`, and the Typer application then says what is wrong in
its own words: the user sees one CLI. Imports nothing, for the hooks' start-up.
"""

from __future__ import annotations

from mlopsctl.cli.commands import Command, Param


class Usage(Exception):
    """The line is not one the command accepts (Typer will say why)."""


def _convert(param: Param, value: str) -> object:
    if param.choices is not None and value not in param.choices:
        raise Usage(f"{value!r} is not one of {param.choices}")
    try:
        if param.kind == "float":
            return float(value)
        if param.kind == "int":
            return int(value)
    except ValueError:
        raise Usage(f"{value!r} is not a number") from None
    return value


def parse(command: type[Command], args: list[str]) -> Command:
    """Parse the words after the command name into an instance of ``command``."""
    options: dict[str, Param] = {}
    for p in command.params:
        for f in p.flags:
            options[f] = p
    positionals = [p for p in command.params if p.positional and p.kind != "rest"]
    rest_param = next((p for p in command.params if p.kind == "rest"), None)
    values: dict[str, object] = {p.attr: p.initial() for p in command.params}
    words: list[str] = []
    extra: list[str] = []
    if rest_param is not None and "--" in args:  # all after the first -- is the tool's
        cut = args.index("--")
        args, extra = args[:cut], args[cut + 1 :]
    given: set[str] = set()  # options given a value; as click, only the last one converts
    i = 0
    while i < len(args):
        word = args[i]
        i += 1
        if word == "--":
            if rest_param is not None:
                extra.extend(args[i:])
            else:
                words.extend(args[i:])
            break
        if not word.startswith("-") or word == "-":
            words.append(word)
            continue
        name, eq, inline = word.partition("=") if word.startswith("--") else (word, "", "")
        param = options.get(name)
        if param is None and not word.startswith("--") and len(word) > 2:
            param, inline, eq = options.get(word[:2]), word[2:], "="  # -mVALUE
            if param is not None and param.kind == "bool":
                raise Usage(f"{word[:2]} takes no value")
        if param is None:
            raise Usage(f"no such option: {name}")
        if param.kind == "bool":
            if eq:
                raise Usage(f"{name} takes no value")
            values[param.attr] = True
            continue
        if eq:
            value = inline
        elif i < len(args):
            value, i = args[i], i + 1
        else:
            raise Usage(f"{name} needs a value")
        if param.kind == "list":
            listed = values[param.attr]
            assert isinstance(listed, list)
            listed.append(value)
        else:
            values[param.attr] = value
            given.add(param.attr)
    for attr in given:
        param = next(p for p in command.params if p.attr == attr)
        values[attr] = _convert(param, str(values[attr]))
    for p in positionals:
        if p.kind == "list":
            values[p.attr], words = words, []
        elif words:
            values[p.attr], words = _convert(p, words[0]), words[1:]
        elif p.required:
            raise Usage(f"missing argument {p.metavar or p.attr.upper()}")
    if words:
        raise Usage(f"unexpected extra argument {words[0]!r}")
    for p in command.params:
        if p.required and p.flags and values[p.attr] is None:
            raise Usage(f"missing option {p.flags[0]}")
    if rest_param is not None:
        values[rest_param.attr] = extra
    return command(**values)
