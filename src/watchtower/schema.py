"""Strict, declarative models for TOML documents: what the config needs from pydantic.

:mod:`watchtower.config` declares its models as annotated classes (``name: str =
Field(min_length=1)``); :class:`Model` checks a parsed TOML document against them and
reports the **first** problem with pydantic's error shape and words (``type``, ``loc``,
``msg``, ``input``), so the one-line messages users see did not change when pydantic
left the start-up path.  Importing pydantic and building the config's models took
130-160 ms of a 600 ms start; this module imports in about a millisecond and compiles a
model's checks the first time it is used.

Strict like pydantic's ``strict=True`` and ``extra="forbid"``: no coercion (an ``int`` is
accepted for a ``float`` and becomes one; ``bool`` is neither), unknown keys are errors.
Fields are checked in declaration order and unknown keys after them, so the first error is
the one pydantic listed first.  Supported annotations: ``str``, ``int``, ``float``,
``bool``, ``Path``, ``Literal[...]``, ``list[T]``, ``dict[str, T]``, ``T | None``, a
:class:`Model`, and ``Annotated[Union[Model, ...], Field(discriminator=...)]``.

Defaults are not checked (as in pydantic), and assigning to an attribute later is not
checked either.
"""

from __future__ import annotations

import sys
import typing
from pathlib import Path
from typing import Any, Callable, Iterable

__all__ = ["Field", "Invalid", "Model", "ValidationError"]

_MISSING: Any = object()

Loc = tuple[Any, ...]
Check = Callable[[Any, Loc], Any]


class Invalid(Exception):
    """One problem in a document: pydantic's error type, location, message and input."""

    def __init__(self, type: str, loc: Loc, msg: str, input: Any) -> None:  # noqa: A002 - pydantic's names
        super().__init__(msg)
        self.type = type
        self.loc = loc
        self.msg = msg
        self.input = input

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "loc": self.loc, "msg": self.msg, "input": self.input}


class ValidationError(ValueError):
    """Raised by :meth:`Model.model_validate` and the constructors; ``errors()`` as pydantic."""

    def __init__(self, title: str, error: Invalid) -> None:
        loc = ".".join(str(p) for p in error.loc) or "(root)"
        super().__init__(f"1 validation error for {title}\n{loc}\n  {error.msg}")
        self.title = title
        self.error = error

    def errors(self, include_url: bool = False) -> list[dict[str, Any]]:
        return [self.error.as_dict()]


class _FieldInfo:
    __slots__ = ("default", "default_factory", "constraints", "check", "exclude", "discriminator")

    def __init__(
        self,
        default: Any,
        default_factory: Callable[[], Any] | None,
        constraints: dict[str, Any],
        check: Callable[[Any], Any] | None,
        exclude: bool,
        discriminator: str | None,
    ) -> None:
        self.default = default
        self.default_factory = default_factory
        self.constraints = constraints
        self.check = check
        self.exclude = exclude
        self.discriminator = discriminator


def Field(  # noqa: N802 - reads like pydantic's
    default: Any = _MISSING,
    *,
    default_factory: Callable[[], Any] | None = None,
    min_length: int | None = None,
    max_length: int | None = None,
    ge: float | None = None,
    gt: float | None = None,
    le: float | None = None,
    lt: float | None = None,
    check: Callable[[Any], Any] | None = None,
    exclude: bool = False,
    discriminator: str | None = None,
) -> Any:
    """A field's default and constraints.

    ``check(value)`` runs after the type and constraints; it returns the value to keep or
    raises ``ValueError("a ...")``, reported as pydantic's ``value_error``.
    """
    constraints = {
        k: v
        for k, v in (("min_length", min_length), ("max_length", max_length), ("le", le), ("lt", lt), ("ge", ge), ("gt", gt))
        if v is not None
    }
    return _FieldInfo(default, default_factory, constraints, check, exclude, discriminator)


# ----------------------------------------------------------------------------- checks


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _number(value: float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _literal_words(values: Iterable[Any]) -> str:
    shown = [repr(v) for v in values]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def _check_str(value: Any, loc: Loc) -> Any:
    if isinstance(value, str):
        return value
    raise Invalid("string_type", loc, "Input should be a valid string", value)


def _check_int(value: Any, loc: Loc) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise Invalid("int_type", loc, "Input should be a valid integer", value)


def _check_float(value: Any, loc: Loc) -> Any:
    if isinstance(value, float):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    raise Invalid("float_type", loc, "Input should be a valid number", value)


def _check_bool(value: Any, loc: Loc) -> Any:
    if isinstance(value, bool):
        return value
    raise Invalid("bool_type", loc, "Input should be a valid boolean", value)


def _check_path(value: Any, loc: Loc) -> Any:
    if isinstance(value, Path):
        return value
    raise Invalid("is_instance_of", loc, "Input should be an instance of Path", value)


_SIMPLE: dict[Any, Check] = {str: _check_str, int: _check_int, float: _check_float, bool: _check_bool, Path: _check_path}


def _literal(values: tuple[Any, ...]) -> Check:
    allowed = frozenset(values)
    types = frozenset(type(v) for v in values)
    msg = "Input should be " + _literal_words(values)

    def check(value: Any, loc: Loc) -> Any:
        if type(value) in types and value in allowed:
            return value
        raise Invalid("literal_error", loc, msg, value)

    return check


def _optional(inner: Check) -> Check:
    def check(value: Any, loc: Loc) -> Any:
        return None if value is None else inner(value, loc)

    return check


def _list(item: Check) -> Check:
    def check(value: Any, loc: Loc) -> Any:
        if not isinstance(value, list):
            raise Invalid("list_type", loc, "Input should be a valid list", value)
        return [item(v, (*loc, i)) for i, v in enumerate(value)]

    return check


def _dict(key: Check, item: Check) -> Check:
    def check(value: Any, loc: Loc) -> Any:
        if not isinstance(value, dict):
            raise Invalid("dict_type", loc, "Input should be a valid dictionary", value)
        out = {}
        for k, v in value.items():
            out[key(k, (*loc, k, "[key]"))] = item(v, (*loc, k))
        return out

    return check


def _model(cls: type[Model]) -> Check:
    msg = f"Input should be a valid dictionary or instance of {cls.__name__}"

    def check(value: Any, loc: Loc) -> Any:
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            return cls._validate(value, loc)
        raise Invalid("model_type", loc, msg, value)

    return check


def _tagged_union(members: tuple[type[Model], ...], tag: str) -> Check:
    by_tag: dict[Any, type[Model]] = {}
    for member in members:
        literal = typing.get_type_hints(member)[tag]
        for value in typing.get_args(literal):
            by_tag[value] = member
    expected = ", ".join(repr(t) for t in by_tag)

    def check(value: Any, loc: Loc) -> Any:
        if isinstance(value, members):
            return value
        if not isinstance(value, dict):
            raise Invalid("model_attributes_type", loc, "Input should be a valid dictionary or object to extract fields from", value)
        if tag not in value:
            raise Invalid("union_tag_not_found", loc, f"Unable to extract tag using discriminator '{tag}'", value)
        found = value[tag]
        member = by_tag.get(found) if isinstance(found, str) else None
        if member is None:
            raise Invalid(
                "union_tag_invalid",
                loc,
                f"Input tag '{found}' found using '{tag}' does not match any of the expected tags: {expected}",
                value,
            )
        return member._validate(value, loc)

    return check


def _constrained(inner: Check, constraints: dict[str, Any]) -> Check:
    """Length and bound constraints, checked after the type, in pydantic's order."""
    if not constraints:
        return inner
    min_length = constraints.get("min_length")
    max_length = constraints.get("max_length")
    bounds = [(k, constraints[k]) for k in ("le", "lt", "ge", "gt") if k in constraints]

    def check(raw: Any, loc: Loc) -> Any:
        value = inner(raw, loc)
        if value is None:
            return value
        if isinstance(value, str):
            if min_length is not None and len(value) < min_length:
                raise Invalid("string_too_short", loc, f"String should have at least {_plural(min_length, 'character')}", raw)
            if max_length is not None and len(value) > max_length:
                raise Invalid("string_too_long", loc, f"String should have at most {_plural(max_length, 'character')}", raw)
        elif isinstance(value, list):
            if min_length is not None and len(value) < min_length:
                raise Invalid(
                    "too_short", loc,
                    f"List should have at least {_plural(min_length, 'item')} after validation, not {len(value)}", raw,
                )
            if max_length is not None and len(value) > max_length:
                raise Invalid(
                    "too_long", loc,
                    f"List should have at most {_plural(max_length, 'item')} after validation, not {len(value)}", raw,
                )
        for kind, limit in bounds:
            bound = float(limit) if isinstance(value, float) else limit
            if kind == "le" and not value <= bound:
                raise Invalid("less_than_equal", loc, f"Input should be less than or equal to {_number(bound)}", raw)
            if kind == "lt" and not value < bound:
                raise Invalid("less_than", loc, f"Input should be less than {_number(bound)}", raw)
            if kind == "ge" and not value >= bound:
                raise Invalid("greater_than_equal", loc, f"Input should be greater than or equal to {_number(bound)}", raw)
            if kind == "gt" and not value > bound:
                raise Invalid("greater_than", loc, f"Input should be greater than {_number(bound)}", raw)
        return value

    return check


def _with_check(inner: Check, func: Callable[[Any], Any]) -> Check:
    def check(raw: Any, loc: Loc) -> Any:
        value = inner(raw, loc)
        try:
            return func(value)
        except ValueError as exc:
            raise Invalid("value_error", loc, f"Value error, {exc}", raw) from None

    return check


def _compile(tp: Any, info: _FieldInfo | None = None) -> Check:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Annotated:
        extra = next((a for a in args[1:] if isinstance(a, _FieldInfo)), None)
        return _compile(args[0], extra)
    if tp in _SIMPLE:
        return _SIMPLE[tp]
    if origin is typing.Literal:
        return _literal(args)
    if origin in (typing.Union, _UnionType):
        members = tuple(a for a in args if a is not type(None))
        if info is not None and info.discriminator:
            return _tagged_union(members, info.discriminator)  # type: ignore[arg-type]
        if len(members) == 1 and len(args) == 2:
            return _optional(_compile(members[0]))
        raise TypeError(f"unsupported union {tp!r}")
    if origin is list:
        return _list(_compile(args[0]))
    if origin is dict:
        return _dict(_compile(args[0]), _compile(args[1]))
    if isinstance(tp, type) and issubclass(tp, Model):
        return _model(tp)
    raise TypeError(f"unsupported annotation {tp!r}")


_UnionType: Any = getattr(__import__("types"), "UnionType", typing.Union)


class _Spec:
    __slots__ = ("name", "check", "default", "factory", "exclude")

    def __init__(self, name: str, check: Check, default: Any, factory: Callable[[], Any] | None, exclude: bool) -> None:
        self.name = name
        self.check = check
        self.default = default
        self.factory = factory
        self.exclude = exclude


# ----------------------------------------------------------------------------- models


class Model:
    """A strict model; subclasses declare fields as annotations with defaults or :func:`Field`.

    Override :meth:`_check` for rules across fields (it runs only when every field is
    valid, and raises ``ValueError`` with the words to show).
    """

    __specs__: dict[str, _Spec] | None = None

    def __init__(self, **data: Any) -> None:
        try:
            values = type(self)._fields(data, ())
        except Invalid as exc:
            raise ValidationError(type(self).__name__, exc) from None
        self.__dict__.update(values)
        self._run_check(())

    # -- validation
    @classmethod
    def _compiled(cls) -> dict[str, _Spec]:
        specs = cls.__dict__.get("__specs__")
        if specs is None:
            hints = typing.get_type_hints(cls, include_extras=True)
            specs = {}
            for name, tp in hints.items():
                if name.startswith("_") or typing.get_origin(tp) is typing.ClassVar:
                    continue
                raw = getattr(cls, name, _MISSING)
                info = raw if isinstance(raw, _FieldInfo) else None
                check = _compile(tp, info)
                default, factory, exclude = raw, None, False
                if info is not None:
                    check = _constrained(check, info.constraints)
                    if info.check is not None:
                        check = _with_check(check, info.check)
                    default, factory, exclude = info.default, info.default_factory, info.exclude
                specs[name] = _Spec(name, check, default, factory, exclude)
            cls.__specs__ = specs
        return specs

    @classmethod
    def _fields(cls, data: dict[str, Any], loc: Loc) -> dict[str, Any]:
        specs = cls._compiled()
        values: dict[str, Any] = {}
        for name, spec in specs.items():
            if name in data:
                values[name] = spec.check(data[name], (*loc, name))
            elif spec.factory is not None:
                values[name] = spec.factory()
            elif spec.default is not _MISSING:
                values[name] = spec.default
            else:
                raise Invalid("missing", (*loc, name), "Field required", data)
        for key, value in data.items():
            if key not in specs:
                raise Invalid("extra_forbidden", (*loc, key), "Extra inputs are not permitted", value)
        return values

    @classmethod
    def _validate(cls, data: dict[str, Any], loc: Loc) -> Model:
        obj = cls.__new__(cls)
        obj.__dict__.update(cls._fields(data, loc))
        obj._run_check(loc)
        return obj

    def _run_check(self, loc: Loc) -> None:
        try:
            self._check()
        except ValueError as exc:
            raise Invalid("value_error", loc, f"Value error, {exc}", self) from None

    def _check(self) -> None:
        """Rules across fields; raise ``ValueError`` with the words to show."""

    @classmethod
    def model_validate(cls, data: Any) -> Any:
        """A model from a parsed document (a dict), or :class:`ValidationError`."""
        try:
            if isinstance(data, cls):
                return data
            if not isinstance(data, dict):
                raise Invalid("model_type", (), f"Input should be a valid dictionary or instance of {cls.__name__}", data)
            return cls._validate(data, ())
        except Invalid as exc:
            raise ValidationError(cls.__name__, exc) from None

    # -- the rest of the BaseModel surface the code and tests use
    def model_dump(self) -> dict[str, Any]:
        """Fields as plain data (nested models too), without the ``exclude`` ones."""
        return {name: _dump(getattr(self, name)) for name, spec in self._compiled().items() if not spec.exclude}

    def model_copy(self, *, update: dict[str, Any] | None = None, deep: bool = False) -> Any:
        import copy

        new = copy.deepcopy(self) if deep else copy.copy(self)
        if not deep:
            new.__dict__ = dict(self.__dict__)
        if update:
            new.__dict__.update(update)
        return new

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]  # mutable, as pydantic's non-frozen models

    def __repr__(self) -> str:
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in self._compiled())
        return f"{type(self).__name__}({fields})"


def _dump(value: Any) -> Any:
    if isinstance(value, Model):
        return value.model_dump()
    if isinstance(value, list):
        return [_dump(v) for v in value]
    if isinstance(value, dict):
        return {k: _dump(v) for k, v in value.items()}
    return value

