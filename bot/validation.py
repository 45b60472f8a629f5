"""Validation errors as an admin can act on them: each one ``key.path[0].name: what is wrong``,
an unknown key with the nearest key the model knows there ("did you mean")."""

from __future__ import annotations

import re
from typing import get_args

from pydantic import BaseModel, ValidationError


def one_line(found: list[str]) -> str:
    """The first problem, and how many more there are."""
    count = len(found)
    return found[0] + (f" (and {count - 1} more problem{'s' if count > 2 else ''})" if count > 1 else "")


def describe(exc: ValidationError, *, root: type[BaseModel]) -> str:
    """The first validation error as ``key.path[0].name: what is wrong``, and how many more."""
    return one_line(problems(exc, root=root))


def problems(exc: ValidationError, *, root: type[BaseModel]) -> list[str]:
    """Every validation error as ``key.path[0].name: what is wrong``; an unknown key with the
    nearest key ``root`` knows at that place."""
    errors = exc.errors()
    # A bad item also fails its list's length check: report the item, not the echo.
    errors = [e for e in errors if not any(o is not e and o["loc"][: len(e["loc"])] == e["loc"] for o in errors)]
    return [_problem(error, root) for error in errors]


def _problem(error: dict, root: type[BaseModel]) -> str:
    path = ""
    for part in error["loc"]:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part.startswith(("function-", "literal[", "tagged-union")):
            continue
        else:
            path += ("." if path else "") + part
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        message = "unknown key" + _nearest(error["loc"], root)
    elif error["type"] == "missing":
        message = "required key is missing"
    named = re.match(r"([\w\[\].]+): (.*)", message)
    if named:  # a model validator names its own key, below the section it checks
        key, message = named.groups()
        path = f"{path}.{key}" if path else key
    return f"{path}: {message}"


def _nearest(loc: tuple, root: type[BaseModel]) -> str:
    """" (did you mean "host"?)" for an unknown key close to one the model knows there."""
    import difflib  # here: only a config with an unknown key needs it
    model: type[BaseModel] | None = root
    for part in loc[:-1]:
        if isinstance(part, str):
            field = model.model_fields.get(part)
            model = _model_in(field.annotation) if field else None
        if model is None:
            return ""
    known = [name for name, field in model.model_fields.items() if not field.exclude]
    close = difflib.get_close_matches(str(loc[-1]).lower(), known, n=1, cutoff=0.6)
    return f' (did you mean "{close[0]}"?)' if close else ""


def _model_in(annotation) -> type[BaseModel] | None:
    """The model a field holds: itself, or inside ``tuple[...]``, ``X | None``, ``Annotated``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return next((m for arg in get_args(annotation) if (m := _model_in(arg))), None)
