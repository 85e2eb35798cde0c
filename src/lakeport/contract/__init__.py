"""Dataset contracts: the typed model, YAML loading with precise errors, and column types."""

from .loader import (
    dump_contract_yaml,
    load_contract_data,
    load_contract_dir,
    load_contract_file,
    load_contract_text,
)
from .model import LINEAGE_COLUMNS, Column, Contract, PartitionField, Quality, Rule, Source, SourceOptions
from .naming import normalise_name
from .types import ColumnType, parse_type

__all__ = [
    "LINEAGE_COLUMNS",
    "Column",
    "ColumnType",
    "Contract",
    "PartitionField",
    "Quality",
    "Rule",
    "Source",
    "SourceOptions",
    "dump_contract_yaml",
    "load_contract_data",
    "load_contract_dir",
    "load_contract_file",
    "load_contract_text",
    "normalise_name",
    "parse_type",
]
