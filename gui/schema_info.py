"""What the registered scenario tables look like, read from their pydantic classes.

The component panel is built from this, never from hard-coded lists: a table class registered in
:mod:`sysim.scenario.registry` by any package (a new PV model, a PMIC, a load) shows up with one
editor per field, the unit of each quantity (:class:`sysim.scenario.fields.QuantitySpec`), its
default, and the ``#:`` comment above the field as a tooltip.
"""
from __future__ import annotations

import datetime as dt
import inspect
import re
import types
import typing
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel
from pydantic_core import PydanticUndefined

from sysim.scenario.fields import QuantitySpec
from sysim.scenario.schema import FilePath
from sysim.units import format_quantity

#: display units for dimensions sysim.scenario.fields does not name a unit for
_EXTRA_UNITS = {"temperature": "K", "rate": "1/s", "illuminance": "lx", "irradiance": "W/m²",
                "dimensionless": "", "capacitance_per_area": "F/m²", "charge_per_area": "C/m²",
                "current_per_area": "A/m²", "resistance_area": "Ω·m²", "energy_per_area": "J/m²",
                "molar_energy": "J/mol", "permittivity": "F/m", "voltage_per_time": "V/s",
                "current_per_frequency": "A/Hz"}

_FILE_CHECK = typing.get_args(FilePath)[1].func


@dataclass
class FieldSpec:
    """One key of a table.

    ``kind``: ``quantity`` (number with unit), ``int``, ``float``, ``bool``, ``choice``
    (``choices``), ``text``, ``file``, ``rows`` (an array of sub-tables or tuples: ``columns``),
    or ``value`` (anything else, edited as an inline TOML value).
    """

    key: str
    kind: str
    required: bool = False
    default: Any = None
    dimension: str | None = None
    unit: str = ""
    choices: tuple = ()
    columns: list["FieldSpec"] = field(default_factory=list)
    row_tables: bool = True  # rows are tables (dicts); False: tuples (lists)
    doc: str = ""

    def default_text(self) -> str:
        """The default as a user would write it (empty when there is none)."""
        if self.default is None or self.default == [] or self.default == {}:
            return ""
        if self.kind == "quantity" and isinstance(self.default, (int, float)):
            return format_quantity(float(self.default), self.unit).strip()
        if isinstance(self.default, bool):
            return "true" if self.default else "false"
        return str(self.default)


def table_fields(table_cls: type[BaseModel], skip: tuple[str, ...] = ()) -> list[FieldSpec]:
    """One :class:`FieldSpec` per field of ``table_cls`` in definition order (base class first)."""
    docs = _field_docs(table_cls)
    out = []
    for key, info in table_cls.model_fields.items():
        if key in skip:
            continue
        spec = _spec(key, info.annotation, list(info.metadata))
        spec.required = info.is_required()
        if not spec.required:
            default = info.get_default(call_default_factory=True)
            spec.default = None if default is PydanticUndefined else default
        spec.doc = info.description or docs.get(key, "")
        out.append(spec)
    return out


def _spec(key: str, annotation, metadata: list) -> FieldSpec:
    annotation, more = _unwrap(annotation)
    metadata = metadata + more
    quantity = next((m for m in metadata if isinstance(m, QuantitySpec)), None)
    if quantity is not None:
        unit = quantity.unit or _EXTRA_UNITS.get(quantity.dimension, "")
        return FieldSpec(key, "quantity", dimension=quantity.dimension, unit=unit)
    if any(getattr(m, "func", None) is _FILE_CHECK for m in metadata):
        return FieldSpec(key, "file")
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return FieldSpec(key, "choice", choices=tuple(typing.get_args(annotation)))
    if annotation is bool:
        return FieldSpec(key, "bool")
    if annotation is int:
        return FieldSpec(key, "int")
    if annotation is float:
        return FieldSpec(key, "float")
    if annotation is str or annotation is dt.datetime:
        return FieldSpec(key, "text")
    if origin is list:
        (item,) = typing.get_args(annotation) or (Any,)
        item, _ = _unwrap(item)
        if inspect.isclass(item) and issubclass(item, BaseModel):
            return FieldSpec(key, "rows", columns=table_fields(item))
        if typing.get_origin(item) is tuple:
            parts = typing.get_args(item)
            if parts and parts[-1] is not Ellipsis:
                columns = [_spec(str(i), part, []) for i, part in enumerate(parts)]
                return FieldSpec(key, "rows", columns=columns, row_tables=False)
    return FieldSpec(key, "value")


def _unwrap(annotation) -> tuple[Any, list]:
    """Strip ``Optional[...]`` and ``Annotated[...]``; return the bare type and the metadata."""
    metadata: list = []
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            base, *extra = typing.get_args(annotation)
            metadata += extra
            annotation = base
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation, metadata
            annotation = args[0]
        else:
            return annotation, metadata


@lru_cache(maxsize=None)
def _field_docs(table_cls: type) -> dict[str, str]:
    """``#:`` comments written above fields in the class bodies (Sphinx style)."""
    docs: dict[str, str] = {}
    for cls in reversed(table_cls.__mro__):
        try:
            lines = inspect.getsource(cls).splitlines()
        except (OSError, TypeError):
            continue
        pending: list[str] = []
        for line in lines:
            stripped = line.strip()
            if stripped.startswith("#:"):
                pending.append(stripped[2:].strip())
                continue
            match = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*:", stripped)
            if match and pending:
                docs[match.group(1)] = " ".join(pending)
            pending = []
    return docs
