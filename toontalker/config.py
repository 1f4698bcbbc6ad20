"""Frozen dataclass configs with named presets and JSON/YAML round trips.

Every config in the project (model, training recipe, dataset build, ...) is a frozen dataclass that mixes
in :class:`ConfigBase`. That gives it:

* ``Cfg.from_name("paper-256", key=value)`` -- a named preset with keyword overrides;
* ``cfg.to_dict()`` / ``Cfg.from_dict(d)`` -- strict: unknown keys raise :class:`ConfigError`;
* ``cfg.save(path)`` / ``Cfg.load(path)`` -- ``.json``, ``.yaml`` or ``.yml``, written atomically;
* ``cfg.with_overrides(["lr=1e-4", "model.dim=256"])`` -- CLI ``--set KEY=VALUE`` overrides, values parsed
  as YAML scalars and checked against the field's type.

Subclasses define ``PRESETS: ClassVar[dict[str, dict]]`` and validate in ``__post_init__`` by raising
:class:`ConfigError` (``self._check(condition, message)`` helps).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from pathlib import Path
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints

import yaml

from toontalker.errors import ConfigError
from toontalker.io_utils import atomic_write_text

C = TypeVar("C", bound="ConfigBase")


class ConfigBase:
    """Mixin for frozen dataclass configs (see module docstring)."""

    PRESETS: ClassVar[dict[str, dict[str, Any]]] = {}

    # -- presets -----------------------------------------------------------------------------------------
    @classmethod
    def preset_names(cls) -> list[str]:
        return sorted(cls.PRESETS)

    @classmethod
    def from_name(cls: type[C], name: str, /, **overrides: Any) -> C:
        """The preset ``name`` with ``overrides`` applied (field names as keywords)."""
        if name not in cls.PRESETS:
            raise ConfigError(f"unknown {cls.__name__} preset {name!r}; choose one of: {', '.join(cls.preset_names())}")
        values = dict(cls.PRESETS[name])
        values.update(overrides)
        return cls.from_dict(values)

    # -- dict / file round trips -------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return to_jsonable(self)

    @classmethod
    def from_dict(cls: type[C], data: dict[str, Any]) -> C:
        if not isinstance(data, dict):
            raise ConfigError(f"{cls.__name__}: expected a mapping, got {type(data).__name__}")
        return _from_plain(cls, data, cls.__name__)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=False) + "\n"

    def save(self, path: str | Path) -> Path:
        """Write the config as JSON or YAML (by suffix), atomically."""
        path = Path(path)
        if path.suffix in (".yaml", ".yml"):
            text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        elif path.suffix == ".json":
            text = self.to_json()
        else:
            raise ConfigError(f"{path}: config files must end in .json, .yaml or .yml")
        atomic_write_text(path, text)
        return path

    @classmethod
    def load(cls: type[C], path: str | Path) -> C:
        path = Path(path)
        if not path.is_file():
            raise ConfigError(f"{path}: config file not found")
        text = path.read_text(encoding="utf-8")
        try:
            data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (json.JSONDecodeError, yaml.YAMLError) as exc:
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ConfigError(f"{path}: not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {first}") from exc
        try:
            return cls.from_dict(data if data is not None else {})
        except ConfigError as exc:
            raise ConfigError(f"{path}: {exc}") from exc

    # -- overrides ---------------------------------------------------------------------------------------
    def replace(self: C, **changes: Any) -> C:
        return self.from_dict({**self.to_dict(), **to_jsonable(changes)})

    def with_overrides(self: C, assignments: typing.Iterable[str]) -> C:
        """Apply ``KEY=VALUE`` strings; dotted keys reach into nested configs."""
        data = self.to_dict()
        for item in assignments:
            key, sep, raw = item.partition("=")
            key = key.strip()
            if not sep or not key:
                raise ConfigError(f"override {item!r} is not KEY=VALUE")
            try:
                value = yaml.safe_load(raw) if raw.strip() else ""
            except yaml.YAMLError as exc:
                raise ConfigError(f"override {item!r}: cannot parse value") from exc
            target = data
            parts = key.split(".")
            for part in parts[:-1]:
                if not isinstance(target.get(part), dict):
                    raise ConfigError(f"override {item!r}: {part!r} is not a nested config of {type(self).__name__}")
                target = target[part]
            if parts[-1] not in target:
                raise ConfigError(
                    f"override {item!r}: {type(self).__name__} has no field {key!r} "
                    f"(fields: {', '.join(sorted(target))})"
                )
            target[parts[-1]] = value
        return self.from_dict(data)

    # -- validation helper -------------------------------------------------------------------------------
    def _check(self, condition: bool, message: str) -> None:
        if not condition:
            raise ConfigError(f"{type(self).__name__}: {message}")


def to_jsonable(value: Any) -> Any:
    """Dataclasses (configs, typed results), paths and tuples as plain JSON/YAML values; dict keys as strings.

    The one serialiser of the package: configs' ``to_dict`` and the CLI's ``--json`` output
    (:mod:`toontalker.console`) both use it."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def _from_plain(cls: type, data: dict[str, Any], where: str) -> Any:
    hints = get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(f"{where}: unknown field(s) {', '.join(unknown)}")
    kwargs = {name: _coerce(hints[name], value, f"{where}.{name}") for name, value in data.items()}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # missing required fields
        raise ConfigError(f"{where}: {exc}") from exc


def _coerce(tp: Any, value: Any, where: str) -> Any:
    """Check ``value`` against the annotation ``tp``; convert lists to tuples and ints to floats."""
    origin = get_origin(tp)
    if tp is Any:
        return value
    if origin in (Union, types.UnionType):
        options = get_args(tp)
        if value is None and type(None) in options:
            return None
        errors = []
        for option in options:
            if option is type(None):
                continue
            try:
                return _coerce(option, value, where)
            except ConfigError as exc:
                errors.append(str(exc))
        raise ConfigError(errors[0] if errors else f"{where}: invalid value {value!r}")
    if origin is typing.Literal:
        if value not in get_args(tp):
            raise ConfigError(f"{where}: {value!r} is not one of {', '.join(map(repr, get_args(tp)))}")
        return value
    if origin in (tuple, list):
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f"{where}: expected a list, got {value!r}")
        args = get_args(tp)
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            items = [_coerce(args[0], v, where) for v in value]
        elif origin is tuple and args:
            if len(args) != len(value):
                raise ConfigError(f"{where}: expected {len(args)} items, got {len(value)}")
            items = [_coerce(a, v, where) for a, v in zip(args, value)]
        else:
            items = [_coerce(args[0], v, where) if args else v for v in value]
        return tuple(items) if origin is tuple else items
    if origin is dict:
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return dict(value)
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        if not isinstance(value, dict):
            raise ConfigError(f"{where}: expected a mapping, got {value!r}")
        return _from_plain(tp, value, where)
    if tp is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true/false, got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected an integer, got {value!r}")
    if tp is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):  # YAML 1.1 reads "1e-4" as a string
            try:
                return float(value)
            except ValueError:
                pass
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    if tp is Path:
        if isinstance(value, (str, Path)):
            return Path(value)
        raise ConfigError(f"{where}: expected a path, got {value!r}")
    return value
