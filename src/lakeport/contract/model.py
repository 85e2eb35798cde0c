"""The dataset contract: one typed description of a dataset, validated once where it enters.

A contract is written as YAML by people (see ``examples/``), loaded by :mod:`lakeport.contract.loader`,
stored in the ``datasets`` table by :mod:`lakeport.registry`, and travels as :class:`Contract`.

Annotations use ``typing`` spellings (``Optional``, ``List``) on purpose: pydantic evaluates them at
run time and the engine must import on Python 3.9, the Glue Python-shell runtime.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Literal, Optional, Tuple, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from . import formats
from .expressions import ExpressionError, check_expression
from .naming import is_safe_name, normalise_name
from .types import ColumnType, TypeParseError, parse_type

LINEAGE_COLUMNS: Tuple[Tuple[str, str], ...] = (
    ("lakeport_run_id", "string"),
    ("lakeport_ingested_at", "timestamp"),
    ("lakeport_source", "string"),
    ("lakeport_source_row", "bigint"),
)
"""Columns lakeport adds to every curated row: which run wrote it, when, from which object and row."""

RESERVED_PREFIX = "lakeport_"
DEFAULT_SPARK_THRESHOLD = 5 * 1024**3
DEFAULT_MAX_UNCOMPRESSED = 64 * 1024**3
DEFAULT_MAX_ROW_BYTES = 4 * 1024**2
MAX_ROW_BYTES_CEILING = 256 * 1024**2

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?i?b?)?\s*$", re.IGNORECASE)
_POWERS = ["", "k", "m", "g", "t"]
_UNITS = {unit: 1000**power for power, unit in enumerate(_POWERS)}


def parse_size(value: Union[int, float, str]) -> int:
    """``5GiB``, ``500MB``, ``1.5g`` or a plain number of bytes -> bytes."""
    if isinstance(value, bool):
        raise ValueError("a size must be a number of bytes or text such as '5GiB'")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError("a size cannot be negative")
        return int(value)
    match = _SIZE.match(value)
    if not match:
        raise ValueError(f"'{value}' is not a size; write e.g. 500MB or 5GiB")
    number, unit = float(match.group(1)), (match.group(2) or "").lower()
    binary = "i" in unit
    unit = unit.replace("i", "").replace("b", "")
    factor = 1024 ** _POWERS.index(unit) if binary else _UNITS[unit]
    return int(number * factor)


THOUSANDS_SEPARATORS = (".", ",", " ", "'", "\u00a0", "\u202f")
"""What exports group digits with: a point (German), a comma (English), a space or (narrow) no-break
space (French, Swedish, ISO 31-0), an apostrophe (Swiss)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class SourceOptions(_Strict):
    """How to read the files. CSV keys are rejected for other formats."""

    delimiter: str = ","
    quote: Optional[str] = '"'
    escape: Optional[str] = None
    header: bool = True
    encoding: str = "utf-8"
    null_values: List[str] = Field(default_factory=lambda: [""])
    skip_rows: int = Field(0, ge=0)
    skip_footer_rows: int = Field(0, ge=0)
    """Lines (Excel: rows) at the end that are no data: a trailer with a count, a total row."""
    compression: Literal["auto", "none", "gzip", "bz2", "zstd"] = "auto"
    sheet: Optional[str] = None
    """Excel: the worksheet to read (by name); the first one when not given."""
    decimal_separator: Literal[".", ","] = "."
    """Text formats: the character between a number's whole part and its fraction (``1,5``)."""
    thousands_separator: Optional[str] = None
    """Text formats: the character that groups a number's whole digits by three (``1.234,5``)."""
    negatives: Literal["leading", "trailing", "parentheses"] = "leading"
    """Text formats: negative numbers are also written ``5-`` (trailing) or ``(5)`` (parentheses)."""

    @field_validator("thousands_separator")
    @classmethod
    def _grouping(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and value not in THOUSANDS_SEPARATORS:
            raise ValueError(
                "must be one of '.', ',', ' ', \"'\", a no-break space (U+00A0) or a narrow one (U+202F),"
                " or null for none"
            )
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SourceOptions:
        if self.thousands_separator == self.decimal_separator:
            raise ValueError("decimal_separator and thousands_separator must differ")
        if self.skip_footer_rows and "\n".encode(self.encoding) != b"\n":
            raise ValueError(f"skip_footer_rows needs an encoding whose line break is one byte, not {self.encoding}")
        return self

    @field_validator("delimiter")
    @classmethod
    def _one_char_delimiter(cls, value: str) -> str:
        if value == "\\t":
            value = "\t"
        if len(value) != 1 or value in "\r\n":
            raise ValueError("must be exactly one character (not a line break); use '\\t' for tab")
        return value

    @field_validator("quote", "escape")
    @classmethod
    def _one_char(cls, value: Optional[str]) -> Optional[str]:
        if value is not None and (len(value) != 1 or value in "\r\n"):
            raise ValueError("must be exactly one character, or null for none")
        return value

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            return codecs.lookup(value).name
        except LookupError:
            raise ValueError(f"unknown text encoding '{value}' (e.g. utf-8, latin-1, cp1252)") from None


_NUMBERS = ("decimal_separator", "thousands_separator", "negatives")
_LATER = ("skip_footer_rows", *_NUMBERS)  # options added after contracts were first stored
# the options each format takes besides encoding and compression (which every text format takes);
# number spellings only where numbers are text (an Excel cell or a JSON number is a number)
_FORMAT_OPTIONS = {
    "csv": ("delimiter", "quote", "escape", "header", "null_values", "skip_rows", "skip_footer_rows", *_NUMBERS),
    "fixed_width": ("null_values", "skip_rows", "skip_footer_rows", *_NUMBERS),
    "excel": ("header", "null_values", "skip_rows", "skip_footer_rows", "sheet"),
    "jsonl": (),
    "parquet": (),
}
_FORMAT_ONLY = tuple(dict.fromkeys(o for options in _FORMAT_OPTIONS.values() for o in options))
"""Every option that some format does not take."""


class Source(_Strict):
    """Where a dataset's raw files land and what they look like."""

    prefix: str = Field(min_length=1)
    format: Literal["csv", "jsonl", "parquet", "fixed_width", "excel"]
    options: SourceOptions = Field(default_factory=SourceOptions)
    max_uncompressed_bytes: int = DEFAULT_MAX_UNCOMPRESSED
    max_row_bytes: int = DEFAULT_MAX_ROW_BYTES
    suffixes: List[str] = Field(default_factory=list)

    @field_validator("prefix")
    @classmethod
    def _clean_prefix(cls, value: str) -> str:
        if value.startswith("/") or value.startswith("s3://"):
            raise ValueError("is a key prefix inside the raw bucket, e.g. 'sales/orders/' (no bucket, no '/')")
        if ".." in value.split("/"):
            raise ValueError("must not contain '..'")
        return value if value.endswith("/") else value + "/"

    @field_validator("max_uncompressed_bytes", "max_row_bytes", mode="before")
    @classmethod
    def _size(cls, value: Any) -> int:
        return parse_size(value)

    @field_validator("max_row_bytes")
    @classmethod
    def _row_bound(cls, value: int) -> int:
        if not 1024 <= value <= MAX_ROW_BYTES_CEILING:
            raise ValueError(
                "must be from 1KiB to 256MiB: a row is held in memory whole, so this bounds the memory one row takes"
            )
        return value

    @model_validator(mode="after")
    def _options_fit_format(self) -> Source:
        defaults = SourceOptions()
        allowed = _FORMAT_OPTIONS[self.format]
        given = [
            k
            for k in _FORMAT_ONLY
            if k not in allowed
            and k in self.options.model_fields_set
            and getattr(self.options, k) != getattr(defaults, k)
        ]
        if given:
            takes = [f for f, options in _FORMAT_OPTIONS.items() if all(k in options for k in given)]
            raise ValueError(
                f"options {', '.join(given)} do not apply to {self.format}"
                + (f" (only to {', '.join(takes)})" if takes else "")
            )
        return self


class Column(_Strict):
    """One column of the table. ``name`` is Athena-safe; ``source`` is the header or JSON key."""

    name: str
    type: str
    nullable: bool = True
    source: Optional[str] = None
    format: Optional[str] = None
    comment: Optional[str] = None
    # texts that also mean "no value" in this column, besides source.options.null_values (which
    # apply to every column of a CSV): e.g. [NA, "-"] for a number that a country code beside it
    # must not lose. Matched whole, quoted or not; applies to text input (CSV, JSON strings).
    null_values: Optional[List[str]] = None
    # an Athena (Trino) SQL expression over the row's other columns: the column is computed, not
    # read from the file (see lakeport.contract.expressions)
    expression: Optional[str] = Field(None, min_length=1)
    # fixed-width text: where the column is on each line (1-based character position, and width)
    start: Optional[int] = Field(None, ge=1)
    length: Optional[int] = Field(None, ge=1)

    @model_validator(mode="before")
    @classmethod
    def _normalise(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            data = dict(data)
            original = data["name"]
            safe = normalise_name(original)
            if safe != original:
                data["name"] = safe
                if not data.get("expression"):
                    data.setdefault("source", original)
        return data

    @model_validator(mode="after")
    def _derived_is_not_read(self) -> Column:
        if self.expression is not None:
            given = [k for k in ("source", "format", "null_values", "start", "length") if getattr(self, k) is not None]
            if given:
                raise ValueError(
                    f"a column with an expression is computed, not read from the file: drop {', '.join(given)}"
                )
        return self

    @property
    def derived(self) -> bool:
        return self.expression is not None

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        try:
            return parse_type(value).glue_name
        except TypeParseError as exc:
            raise ValueError(str(exc)) from None

    @model_validator(mode="after")
    def _format_only_for_temporal(self) -> Column:
        if self.format is not None:
            if not self.column_type.is_temporal:
                raise ValueError(f"'format' applies to date and timestamp columns, not {self.type}")
            if "%" not in self.format:
                raise ValueError("'format' uses strptime codes, e.g. '%d/%m/%Y %H:%M'")
            formats.parts(self.format)  # names any code the engines do not read
        return self

    @property
    def column_type(self) -> ColumnType:
        return parse_type(self.type)

    @property
    def source_name(self) -> str:
        return self.source if self.source is not None else self.name


class PartitionField(_Strict):
    """A partition key: the ``from`` column as is (``identity``) or truncated to year, month or day."""

    name: str
    from_: Optional[str] = Field(None, alias="from")
    transform: Literal["identity", "year", "month", "day"] = "identity"

    @field_validator("name")
    @classmethod
    def _safe(cls, value: str) -> str:
        if not is_safe_name(value):
            raise ValueError(f"'{value}' is not an Athena-safe name; use e.g. '{normalise_name(value)}'")
        return value

    @property
    def source_column(self) -> str:
        return self.from_ or self.name

    @property
    def glue_type(self) -> Optional[str]:
        """Catalog type of the partition key; ``None`` for identity (the source column's type)."""
        return {"year": "int", "month": "string", "day": "date", "identity": None}[self.transform]


RULE_KINDS = ("not_null", "unique", "range", "allowed_values", "regex", "max_length")


class Rule(_Strict):
    """A quality rule in its canonical form. Written in YAML as a one-key mapping, e.g.
    ``{not_null: order_id}``, ``{unique: [order_id]}``, ``{range: {column: amount, min: 0}}``,
    ``{allowed_values: {column: status, values: [NEW, PAID]}}``, ``{regex: {column: sku, pattern: '^[A-Z]{3}-\\d+$'}}``,
    ``{max_length: {column: note, max: 200}}``."""

    kind: Literal["not_null", "unique", "range", "allowed_values", "regex", "max_length"]
    columns: Tuple[str, ...]
    min: Optional[Union[int, float, str]] = None
    max: Optional[Union[int, float, str]] = None
    values: Optional[Tuple[Union[str, int, float, bool], ...]] = None
    pattern: Optional[str] = None
    max_length: Optional[int] = None

    @model_validator(mode="before")
    @classmethod
    def _from_yaml(cls, data: Any) -> Any:
        if not isinstance(data, dict) or "kind" in data:
            return data
        if len(data) != 1:
            raise ValueError(
                f"a rule is a mapping with exactly one of {', '.join(RULE_KINDS)}"
                f" (got {', '.join(map(str, data)) or 'nothing'})"
            )
        kind, body = next(iter(data.items()))
        if kind not in RULE_KINDS:
            raise ValueError(f"unknown rule '{kind}'; use one of {', '.join(RULE_KINDS)}")
        if kind in ("not_null", "unique"):
            if isinstance(body, str):
                return {"kind": kind, "columns": (body,)}
            if isinstance(body, list) and body and all(isinstance(c, str) for c in body):
                return {"kind": kind, "columns": tuple(body)}
            raise ValueError(f"{kind} takes a column name or a list of column names")
        if not isinstance(body, dict) or not isinstance(body.get("column"), str):
            raise ValueError(f"{kind} takes a mapping with 'column' and its settings")
        body = dict(body)
        column = body.pop("column")
        allowed = {
            "range": {"min", "max"},
            "allowed_values": {"values"},
            "regex": {"pattern"},
            "max_length": {"max"},
        }[kind]
        unknown = set(body) - allowed
        if unknown:
            raise ValueError(
                f"{kind} does not take {', '.join(sorted(unknown))}; it takes {', '.join(sorted(allowed))}"
            )
        out: Dict[str, Any] = {"kind": kind, "columns": (column,)}
        if kind == "max_length":
            out["max_length"] = body.get("max")
        else:
            out.update(body)
        return out

    @model_validator(mode="after")
    def _settings_present(self) -> Rule:
        if self.kind == "range" and self.min is None and self.max is None:
            raise ValueError("range needs min, max or both")
        if self.kind == "allowed_values" and not self.values:
            raise ValueError("allowed_values needs a non-empty 'values' list")
        if self.kind == "regex":
            if not self.pattern:
                raise ValueError("regex needs a 'pattern'")
            try:
                re.compile(self.pattern)
            except re.error as exc:
                raise ValueError(f"pattern '{self.pattern}' is not a valid regular expression: {exc}") from None
        if self.kind == "max_length" and (self.max_length is None or self.max_length < 0):
            raise ValueError("max_length needs 'max', a number of characters >= 0")
        return self

    def describe(self) -> str:
        col = ", ".join(self.columns)
        if self.kind == "range":
            low = "-inf" if self.min is None else self.min
            high = "inf" if self.max is None else self.max
            return f"range({col}: {low}..{high})"
        if self.kind == "allowed_values":
            return f"allowed_values({col})"
        if self.kind == "regex":
            return f"regex({col} ~ {self.pattern})"
        if self.kind == "max_length":
            return f"max_length({col} <= {self.max_length})"
        return f"{self.kind}({col})"


class Quality(_Strict):
    rules: List[Rule] = Field(default_factory=list)
    on_violation: Literal["quarantine_row", "fail_file"] = "quarantine_row"
    max_bad_ratio: float = Field(0.5, ge=0.0, le=1.0)


class Contract(_Strict):
    """A dataset contract. See ``docs/contracts.md`` for every field."""

    dataset: str
    owner: str
    description: Optional[str] = None
    source: Source
    columns: List[Column] = Field(alias="schema", min_length=1)
    primary_key: List[str] = Field(default_factory=list)
    partition_by: List[PartitionField] = Field(default_factory=list)
    write_mode: Literal["append", "overwrite_partitions", "upsert"] = "append"
    quality: Quality = Field(default_factory=Quality)
    schema_evolution: Literal["additive", "strict"] = "additive"
    engine: Literal["auto", "python", "spark"] = "auto"
    spark_threshold_bytes: int = DEFAULT_SPARK_THRESHOLD
    # how long replaced snapshots stay readable (time travel, rollback) before 'lakeport maintain' expires them
    snapshot_retention_days: int = Field(7, ge=1, le=3650)
    version: Optional[int] = Field(None, description="set by the registry, not by people")

    @field_validator("dataset")
    @classmethod
    def _dataset_name(cls, value: str) -> str:
        parts = value.split(".")
        if len(parts) != 2 or not all(is_safe_name(p) for p in parts):
            raise ValueError(f"'{value}' must be '<database>.<table>' with lower-case letters, digits and underscores")
        return value

    @field_validator("owner")
    @classmethod
    def _owner(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("name a team or a person to contact, e.g. sales-data@example.com")
        return value

    @field_validator("spark_threshold_bytes", mode="before")
    @classmethod
    def _threshold(cls, value: Any) -> int:
        return parse_size(value)

    # -- cross-field checks ----------------------------------------------------------------------

    @model_validator(mode="after")
    def _consistent(self) -> Contract:
        problems: List[str] = []
        names = [c.name for c in self.columns]
        seen: Dict[str, int] = {}
        for index, name in enumerate(names):
            if name in seen:
                problems.append(f"schema.{index}.name: duplicate column '{name}' (also schema.{seen[name]})")
            seen.setdefault(name, index)
            if name.startswith(RESERVED_PREFIX):
                problems.append(f"schema.{index}.name: '{name}' uses the reserved prefix '{RESERVED_PREFIX}'")
        sources: Dict[str, int] = {}
        for index, column in enumerate(self.columns):
            if column.derived:
                continue
            if column.source_name in sources:
                problems.append(
                    f"schema.{index}.source: '{column.source_name}' is already read by"
                    f" schema.{sources[column.source_name]}"
                )
            sources.setdefault(column.source_name, index)
        by_name = {c.name: c for c in self.columns}
        inputs = {c.name: c.type for c in self.columns if not c.derived}
        for index, column in enumerate(self.columns):
            if column.expression is not None:
                try:
                    check_expression(column.expression, inputs)
                except ExpressionError as exc:
                    problems.append(f"schema.{index}.expression: {exc}")
        if not inputs:
            problems.append("schema: every column is derived; at least one must come from the file")
        problems.extend(self._positions())

        for index, key in enumerate(self.primary_key):
            if key not in by_name:
                problems.append(f"primary_key.{index}: '{key}' is not a column of the schema")
            elif by_name[key].nullable:
                problems.append(
                    f"primary_key.{index}: '{key}' is nullable; a key column must be declared nullable: false"
                )
        if len(set(self.primary_key)) != len(self.primary_key):
            problems.append("primary_key: lists a column twice")
        if self.write_mode == "upsert" and not self.primary_key:
            problems.append("write_mode: upsert merges on the primary key; declare primary_key")

        partition_names = set()
        for index, field in enumerate(self.partition_by):
            where = f"partition_by.{index}"
            if field.name in partition_names:
                problems.append(f"{where}.name: duplicate partition '{field.name}'")
            partition_names.add(field.name)
            src = field.source_column
            if src not in by_name:
                problems.append(f"{where}.from: '{src}' is not a column of the schema")
                continue
            ctype = by_name[src].column_type
            if field.transform == "identity":
                if field.name != src and field.name in by_name:
                    problems.append(f"{where}.name: '{field.name}' is already a column of the schema")
                if ctype.kind in ("float", "double", "timestamp"):
                    problems.append(
                        f"{where}: identity partitioning on a {ctype.kind} column makes one partition per value;"
                        " use a day/month/year transform or another column"
                    )
            else:
                if not ctype.is_temporal:
                    problems.append(
                        f"{where}.transform: '{field.transform}' needs a date or timestamp column; '{src}' is {ctype}"
                    )
                if field.name in by_name:
                    taken = by_name[field.name]
                    problems.append(
                        f"{where}.name: '{field.name}' is already a column of the schema; name the derived"
                        f" partition differently, or keep '{field.name}' for the partition and give the file's"
                        f" column another name: {{name: {field.name}_in_file, source:"
                        f" {taken.source_name}, type: {taken.type}}}"
                    )
        if len(self.partition_by) > 3:
            problems.append("partition_by: more than 3 partition keys makes tiny files; use at most 3")

        for index, rule in enumerate(self.quality.rules):
            for name in rule.columns:
                if name not in by_name:
                    problems.append(f"quality.rules.{index}.{rule.kind}: '{name}' is not a column of the schema")
                    continue
                ctype = by_name[name].column_type
                if rule.kind in ("regex", "max_length") and not ctype.is_text:
                    problems.append(
                        f"quality.rules.{index}.{rule.kind}: '{name}' is {ctype}; {rule.kind} applies to text columns"
                    )
                if rule.kind == "range":
                    problems.extend(_check_range_bounds(index, rule, ctype))
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _positions(self) -> List[str]:
        """Fixed-width columns say where they are, and only fixed-width columns do."""
        problems: List[str] = []
        fixed = self.source.format == "fixed_width"
        for index, column in enumerate(self.columns):
            if column.derived:
                continue
            has = [k for k in ("start", "length") if getattr(column, k) is not None]
            if fixed and len(has) < 2:
                problems.append(
                    f"schema.{index}: a fixed_width column gives its place on the line: start (the first"
                    " character, from 1) and length, e.g. {start: 1, length: 8}"
                )
            elif not fixed and has:
                problems.append(
                    f"schema.{index}: {' and '.join(has)} apply to fixed_width files, not {self.source.format}"
                )
        return problems

    # -- derived views -------------------------------------------------------------------------

    @property
    def database(self) -> str:
        return self.dataset.split(".")[0]

    @property
    def table(self) -> str:
        return self.dataset.split(".")[1]

    @property
    def quarantine_table(self) -> str:
        return f"{self.table}_quarantine"

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise KeyError(name)

    @property
    def identity_partition_columns(self) -> List[str]:
        """Schema columns that become partition keys (and so are not stored inside the files)."""
        return [p.name for p in self.partition_by if p.transform == "identity" and p.name == p.source_column]

    @property
    def read_columns(self) -> List[Column]:
        """Schema columns read from the files (the others are derived by their expression)."""
        return [c for c in self.columns if not c.derived]

    @property
    def derived_columns(self) -> List[Column]:
        return [c for c in self.columns if c.derived]

    @property
    def data_columns(self) -> List[Column]:
        """Schema columns stored in the Parquet files (partition keys are in the path)."""
        moved = set(self.identity_partition_columns)
        return [c for c in self.columns if c.name not in moved]

    def partition_key_types(self) -> List[Tuple[str, str]]:
        out = []
        for field in self.partition_by:
            glue = field.glue_type or self.column(field.source_column).type
            out.append((field.name, glue))
        return out

    @property
    def rename_map(self) -> Dict[str, str]:
        """Source header/key -> table column, for every column whose name was normalised or mapped."""
        return {c.source_name: c.name for c in self.read_columns if c.source_name != c.name}

    def to_document(self) -> Dict[str, Any]:
        """The contract as plain data (YAML/JSON/DynamoDB-ready), in the shape people write it."""
        doc = self.model_dump(by_alias=True, exclude_none=True, exclude={"version"})
        # options added after contracts were first stored are left out at their defaults: a contract
        # that does not use them keeps its document and digest, so an upgrade versions nothing anew
        options, defaults = doc["source"]["options"], SourceOptions()
        for name in _LATER:
            if options.get(name) == getattr(defaults, name):
                options.pop(name, None)
        doc["quality"]["rules"] = [_rule_document(r) for r in self.quality.rules]
        doc["partition_by"] = [
            {k: v for k, v in {"name": p.name, "from": p.from_, "transform": p.transform}.items() if v is not None}
            for p in self.partition_by
        ]
        return doc


def _rule_document(rule: Rule) -> Dict[str, Any]:
    column = rule.columns[0]
    if rule.kind in ("not_null", "unique"):
        return {rule.kind: list(rule.columns) if len(rule.columns) > 1 or rule.kind == "unique" else column}
    if rule.kind == "range":
        body: Dict[str, Any] = {"column": column}
        if rule.min is not None:
            body["min"] = rule.min
        if rule.max is not None:
            body["max"] = rule.max
        return {"range": body}
    if rule.kind == "allowed_values":
        return {"allowed_values": {"column": column, "values": list(rule.values or ())}}
    if rule.kind == "regex":
        return {"regex": {"column": column, "pattern": rule.pattern}}
    return {"max_length": {"column": column, "max": rule.max_length}}


def _check_range_bounds(index: int, rule: Rule, ctype: ColumnType) -> List[str]:
    problems = []
    where = f"quality.rules.{index}.range"
    for label, bound in (("min", rule.min), ("max", rule.max)):
        if bound is None:
            continue
        if ctype.is_numeric and (isinstance(bound, bool) or not isinstance(bound, (int, float))):
            problems.append(f"{where}.{label}: '{bound}' is not a number but '{rule.columns[0]}' is {ctype}")
        if ctype.is_temporal:
            from datetime import date, datetime

            try:
                (date.fromisoformat if ctype.kind == "date" else datetime.fromisoformat)(str(bound))
            except ValueError:
                problems.append(f"{where}.{label}: '{bound}' is not an ISO {ctype.kind}")
    if (
        rule.min is not None and rule.max is not None and type(rule.min) is type(rule.max) and rule.min > rule.max  # type: ignore[operator]
    ):
        problems.append(f"{where}: min {rule.min} is greater than max {rule.max}")
    return problems
