"""Both engines, the same inputs: identical curated rows, quarantined rows and reasons, counts, partitions.

Each case runs the python engine and the Spark engine on the same files (local filesystem roots)
and compares: the outcome of every file (state, rows read/written/quarantined, bytes, reason),
the curated rows of every partition (as sets; run id and ingest time aside), the quarantined rows
with their reasons, the Parquet schemas, and the names of the files written.
"""

from __future__ import annotations

import gzip
import tempfile
from pathlib import Path
from typing import Any, Dict, Iterator, List

import pytest
import yaml

from lakeport.contract import Contract, load_contract_data, load_contract_file
from lakeport.engine.python.engine import PythonEngine
from lakeport.examples import FOLDER as EXAMPLES
from lakeport.s3objects import is_data_key

from .harness import assert_same, files_on_disk, run_engine

pytestmark = [pytest.mark.spark, pytest.mark.filterwarnings("ignore::DeprecationWarning:pyspark")]


@pytest.fixture
def work() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="lakeport-parity-") as folder:
        yield folder


@pytest.fixture
def spark_engine(spark: Any) -> Any:
    from lakeport.engine.spark.engine import SparkEngine

    return SparkEngine(spark)


def both(spark_engine: Any, contract: Contract, paths: List[Path], work: str, **kwargs: Any) -> None:
    python = run_engine(PythonEngine(), contract, paths, work, **kwargs)
    spark = run_engine(spark_engine, contract, paths, work, **kwargs)
    assert_same(python, spark)


# -- the example datasets --------------------------------------------------------------------------


def _example_cases() -> List[Any]:
    cases = []
    for contract_file in sorted((EXAMPLES / "contracts").glob("*.yaml")):
        contract = load_contract_file(contract_file)
        folder = EXAMPLES / "raw" / contract.source.prefix
        raw = EXAMPLES / "raw"
        files = sorted(p for p in folder.rglob("*") if p.is_file() and is_data_key(str(p.relative_to(raw)), contract))
        if files:
            cases.append(pytest.param(contract_file, files, id=contract_file.stem))
    return cases


@pytest.mark.parametrize(("contract_file", "files"), _example_cases())
def test_example_dataset(spark_engine: Any, work: str, contract_file: Path, files: List[Path]) -> None:
    both(spark_engine, load_contract_file(contract_file), files, work)


# -- messy inputs ----------------------------------------------------------------------------------


def contract_of(text: str) -> Contract:
    data: Dict[str, Any] = yaml.safe_load(text)
    data.setdefault("dataset", "parity.messy")
    data.setdefault("owner", "parity@example.com")
    return load_contract_data(data)


def write(folder: str, name: str, body: Any, encoding: str = "utf-8") -> Path:
    path = Path(folder) / "raw" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body if isinstance(body, bytes) else body.encode(encoding))
    return path


MESSY_CSV = """\
id,day,seen,amount,qty,ratio,flag,label,note
1,2024-01-31,2024-01-31 10:11:12,12.50,7,0.5,true,alpha,plain
2,1995-02-30,2024-01-31T10:11:12+02:00,12.345,0x1F,1e3,yes,beta,impossible day
3,1995-13-45,2024-01-31 10:11:12Z,99999999.99,+42, 2.5 ,N,"gamma, with comma",impossible month
4,,2024-01-31T23:30:00-01:00,100000000.00,1.5,nan,maybe,,empty day and label
5,2024-02-29, 2024-02-29 00:00:00 ,-0.00,-0,inf,1,"multi
line",quoted newline
6,2024-03-01,2024-03-01 25:00:00,1e2, 7 ,abc,0,\x22\x22,quoted empty
14,2024-03-10,2024-03-10 00:00:00,1,1,1,t,\x22a\x22\x22b\x22,\x22say \x22\x22hi\x22\x22\x22
6,2024-03-02,2024-03-02 00:00:00,5.005,8,-1,f,dup,duplicate id
NULL,2024-03-03,2024-03-03 00:00:00,1,1,1,t,x,null id
8,2024-03-04,2024-03-04 00:00:00,1,1,1,t,toolongvalue,too long
9,2024-03-05
10,2024-03-06,2024-03-06 00:00:00,1,1,1,t,y,extra,field
11,2024-03-07,2024-03-07 00:00:00,5.0050,2147483648,1,T,z,int overflow
12,2024-03-08,2024-03-08 00:00:00,  3.10  ,-2147483648,-0.0,False,w,blanks
"""

MESSY_CONTRACT = """
source:
  prefix: messy/
  format: csv
  options: {null_values: ["", "NULL"]}
schema:
  - {name: id, type: bigint, nullable: false}
  - {name: day, type: date}
  - {name: seen, type: timestamp}
  - {name: amount, type: "decimal(10,2)"}
  - {name: qty, type: int}
  - {name: ratio, type: double}
  - {name: flag, type: boolean}
  - {name: label, type: varchar(8)}
  - {name: note, type: string}
partition_by: [{name: month, from: day, transform: month}]
quality:
  rules:
    - {unique: [id]}
    - {range: {column: ratio, min: 0, max: 100}}
    - {not_null: [label, note]}
  max_bad_ratio: 1.0
"""


def test_messy_csv(spark_engine: Any, work: str) -> None:
    both(spark_engine, contract_of(MESSY_CONTRACT), [write(work, "messy.csv", MESSY_CSV)], work)


def test_messy_csv_in_latin1_with_semicolons(spark_engine: Any, work: str) -> None:
    text = (
        MESSY_CSV.replace(",", ";").replace("alpha", "Ünal").replace("beta", "Ærø") + "13;2024-03-09;;1;1;1;t;Señor;ñ\n"
    )
    contract = contract_of(
        MESSY_CONTRACT.replace('{null_values: ["", "NULL"]}', '{null_values: [""], delimiter: ";", encoding: latin-1}')
    )
    both(spark_engine, contract, [write(work, "latin1.csv", text, encoding="latin-1")], work)


def test_decimal_commas_and_grouped_thousands(spark_engine: Any, work: str) -> None:
    contract = contract_of(
        """
source:
  prefix: bookings/
  format: csv
  options: {delimiter: ";", decimal_separator: ",", thousands_separator: ".", negatives: trailing}
schema:
  - {name: id, type: int, nullable: false}
  - {name: amount, type: "decimal(12,2)"}
  - {name: rate, type: double}
  - {name: units, type: bigint}
  - {name: note, type: string}
quality: {max_bad_ratio: 1.0}
"""
    )
    text = (
        "id;amount;rate;units;note\n1;1.234.567,89;1,0825;1.000;a 1.5\n2;-12,5;0,9;12;b\n3;7.5;1;1,0;c\n"
        "4;12.34,5;1.000,25;1.234.567;d\n5; 2.000 ;1e3;-1.000;e\n6;1.234,5-;0,5-;7-;f\n7;-1,5-;1;1;g\n"
    )
    both(spark_engine, contract, [write(work, "bookings.csv", text)], work)


NULL_MARKERS_CONTRACT = """
source: {prefix: markers/, format: csv}
schema:
  - {name: id, type: bigint, nullable: false}
  - {name: reading, type: double, null_values: [NA, "-"]}
  - {name: needed, type: int, nullable: false, null_values: [NA]}
  - {name: country, type: char(2)}
  - {name: note, type: string}
"""
NULL_MARKERS_CSV = (
    'id,reading,needed,country,note\n1,12.5,1,NA,\n2,NA,2,DE,""\n3,-,NA,NA,x\n4,,4,FR,"NA"\n5,"NA",5,NA,y\n'
)


def test_per_column_null_markers(spark_engine: Any, work: str) -> None:
    both(spark_engine, contract_of(NULL_MARKERS_CONTRACT), [write(work, "markers.csv", NULL_MARKERS_CSV)], work)


def test_utf8_file_with_invalid_bytes(spark_engine: Any, work: str) -> None:
    body = "id,label\n1,ok\n2,caf\xe9\n3,fine\n".encode("latin-1")
    contract = contract_of("""
source: {prefix: bytes/, format: csv}
schema: [{name: id, type: bigint}, {name: label, type: string}]
""")
    both(spark_engine, contract, [write(work, "bytes.csv", body)], work)


DERIVED_CONTRACT = """
source: {prefix: flights/, format: csv, options: {null_values: ["", NA]}}
schema:
  - {name: year, type: int, nullable: false}
  - {name: month, type: int, nullable: false}
  - {name: day, type: int, nullable: false}
  - {name: dep_time, type: int}
  - {name: distance, type: double}
  - {name: carrier, type: string}
  - {name: flight_date, type: date, nullable: false, expression: "date(format('%04d-%02d-%02d', year, month, day))"}
  - {name: dep_minutes, type: int, expression: "dep_time / 100 * 60 + dep_time % 100"}
  - name: dep_clock
    type: varchar(5)
    expression: "lpad(cast(dep_time / 100 as varchar), 2, '0') || ':' || lpad(cast(dep_time % 100 as varchar), 2, '0')"
  - {name: km, type: "decimal(8,1)", expression: "round(distance * 1.609344, 1)"}
  - {name: carrier_code, type: varchar(2), expression: "upper(trim(carrier))"}
  - {name: late_evening, type: boolean, expression: "dep_time >= 2100"}
partition_by: [{name: flight_month, from: flight_date, transform: month}]
quality:
  max_bad_ratio: 1.0
"""
DERIVED_CSV = (
    "year,month,day,dep_time,distance,carrier\n"
    "2013,1,1,517,1400,ua\n"
    "2013,2,29,NA,100.5,AA\n"  # no such day: the non-nullable date gives no value
    "2013,12,31,2359,17,b6\n"
    "2013,3,x,5,1,DL\n"  # a conversion problem is reported alone
    "2013,6,15,NA,NA,  toolong \n"  # carrier_code longer than varchar(2) after trim? no: 7 characters
    "2014,1,2,5,0.5,\n"
)


def test_derived_columns(spark_engine: Any, work: str) -> None:
    both(spark_engine, contract_of(DERIVED_CONTRACT), [write(work, "flights.csv", DERIVED_CSV)], work)


def test_fixed_width_and_excel_inputs(spark_engine: Any, work: str) -> None:
    from tests.functional.test_ingest_formats import ACCOUNTS, FIXED, SALES, _workbook

    both(spark_engine, contract_of(ACCOUNTS), [write(work, "accounts.txt", FIXED, encoding="latin-1")], work)
    both(spark_engine, contract_of(SALES), [write(work, "sales.xlsx", _workbook())], work)


def test_rows_longer_than_the_row_limit(spark_engine: Any, work: str) -> None:
    contract = contract_of("""
source: {prefix: long/, format: csv, max_row_bytes: 2KiB}
schema: [{name: id, type: bigint}, {name: label, type: string}]
""")
    body = "id,label\n1,ok\n2," + "x" * 5000 + "\n3,fine\n4," + "y" * 3000
    both(spark_engine, contract, [write(work, "long.csv", body)], work)


def test_decimals_at_their_precision_limit(spark_engine: Any, work: str) -> None:
    rows = ["v,w,x"]
    rows += [
        "9999999999999999999999999999.9999999999,99999999999999999999999999999999999999,0.999999999999999999",
        "-9999999999999999999999999999.9999999999,-99999999999999999999999999999999999999,-0.999999999999999999",
        "99999999999999999999999999999.0,100000000000000000000000000000000000000,1.0",
        "1e27,1e37,1e-18",
        "0.00000000001,1e38,0.0000000000000000001",
        "12345678901234567890123456789.5,0,0.1234567890123456789",
    ]
    contract = contract_of("""
source: {prefix: dec/, format: csv}
schema: [{name: v, type: "decimal(38,10)"}, {name: w, type: "decimal(38,0)"}, {name: x, type: "decimal(18,18)"}]
quality: {max_bad_ratio: 1.0}
""")
    both(spark_engine, contract, [write(work, "dec.csv", "\n".join(rows) + "\n")], work)


MESSY_JSONL = """\
{"id": 1, "ts": "2024-01-31T10:11:12+02:00", "amount": 12.5, "tags": ["a", "b"], "meta": {"k": 1}, "ok": true}
{"id": "2", "ts": "2024-01-31 10:11:12", "amount": "12.345", "tags": null, "ok": "yes"}
{"id": 3, "ts": "1995-02-30 00:00:00", "amount": 1e2, "ok": false}
not json at all

{"id": 4, "ts": "2024-02-01T00:00:00Z", "amount": 12345678.5, "ok": 1}
[1, 2, 3]
"just a string"
null
{"id": 1, "ts": "2024-02-02T00:00:00", "amount": -1, "ok": 0}
{"id": 5, "ts": "2024-02-03T00:00:00", "amount": 0.1, "ok": "maybe", "extra": "ignored"}
{"id": 6, "ts": "2024-02-04T00:00:00", "amount": 1.0, "ok": true, "meta": {"é": "ü", "n": [1, 2.5, null]}}
{"id": 7, "ts": "2024-02-05T00:00:00", "amount": 1.0, "ok": true
"""


def test_messy_json_lines(spark_engine: Any, work: str) -> None:
    contract = contract_of("""
source: {prefix: events/, format: jsonl}
schema:
  - {name: id, type: int, nullable: false}
  - {name: ts, type: timestamp, nullable: false}
  - {name: amount, type: "decimal(12,2)"}
  - {name: tags, type: string}
  - {name: meta, type: string}
  - {name: ok, type: boolean}
partition_by: [{name: day, from: ts, transform: day}]
primary_key: [id]
quality:
  rules: [{unique: [id]}, {range: {column: amount, min: 0}}]
  max_bad_ratio: 1.0
""")
    both(spark_engine, contract, [write(work, "events.jsonl", MESSY_JSONL)], work)


KEYED = """
source: {prefix: keyed/, format: csv}
schema:
  - {name: id, type: bigint, nullable: false}
  - {name: amount, type: "decimal(8,2)"}
primary_key: [id]
quality:
  rules: [{unique: [id]}]
  max_bad_ratio: 0.5
"""


def test_duplicate_keys_across_files_and_the_table(spark_engine: Any, work: str) -> None:
    # b.csv is rejected (too many bad rows): its keys must not make c.csv's rows duplicates
    files = [
        write(work, "a.csv", "id,amount\n1,1\n2,2\n3,3\n3,3.5\n"),
        write(work, "b.csv", "id,amount\n4,4\n5,x\n6,y\n7,z\n"),
        write(work, "c.csv", "id,amount\n4,4\n5,5\n5,5.5\n1,1\n20,2\n21,1\n"),
        write(work, "d.csv", "id,amount\n4,4\n8,q\n9,r\n"),
        write(work, "e.csv", "id,amount\n9,9\n22,1\n"),
    ]
    both(spark_engine, contract_of(KEYED), files, work, table_keys=lambda: iter([20, 30]))


def test_composite_unique_keys_and_two_rules(spark_engine: Any, work: str) -> None:
    contract = contract_of("""
source: {prefix: pairs/, format: csv}
schema:
  - {name: a, type: string, nullable: false}
  - {name: b, type: date}
  - {name: c, type: double}
primary_key: [a]
quality:
  rules: [{unique: [a, b]}, {unique: [c]}]
  max_bad_ratio: 1.0
""")
    body = (
        "a,b,c\nx,2024-01-01,1\nx,2024-01-02,1\nx,2024-01-01,2\ny,,3\ny,,3\nz,2024-01-01,nan\n"
        "w,2024-01-01,nan\nv,bad,0\nu,2024-01-03,-0.0\nt,2024-01-04,0\n"
    )
    both(spark_engine, contract, [write(work, "pairs.csv", body)], work)


def test_fail_file(spark_engine: Any, work: str) -> None:
    contract = contract_of(KEYED.replace("max_bad_ratio: 0.5", "on_violation: fail_file"))
    files = [write(work, "good.csv", "id,amount\n1,1\n2,2\n"), write(work, "bad.csv", "id,amount\n3,3\n4,oops\n5,5\n")]
    both(spark_engine, contract, files, work)


def test_file_level_rejections(spark_engine: Any, work: str) -> None:
    files = [
        write(work, "empty.csv", ""),
        write(work, "header-only.csv", "id,amount\n"),
        write(work, "no-id.csv", "amount,other\n1,2\n"),
        write(work, "extra-column.csv", "id,amount,other\n1,1,x\n"),
        write(work, "missing-nullable.csv", "id\n2\n"),
        write(work, "gzip.csv.gz", gzip.compress(b"id,amount\n3,3\n4,4\n")),
        write(work, "broken.csv.gz", gzip.compress(b"id,amount\n5,5\n" * 1000)[:-40]),
        write(work, "dup-header.csv", "id,id,amount\n1,1,1\n"),
        write(work, "capitals.csv", "ID,AMOUNT,Other\n6,6,x\n"),
        write(work, "semicolons.csv", "id;amount\n7;7\n"),
    ]
    both(spark_engine, contract_of(KEYED), files, work)


def test_trailers(spark_engine: Any, work: str) -> None:
    # in a file the pieces reader reads, in one with quotes (pyarrow's streaming reader), and alone
    contract = contract_of(KEYED.replace("format: csv}", "format: csv, options: {skip_footer_rows: 1}}"))
    files = [
        write(work, "trailer.csv", "id,amount\n8,8\n9,9\nTRAILER 2\n"),
        write(work, "quoted-trailer.csv", 'id,amount\n10,"10"\n11,11\n"END",2\n\n'),
        write(work, "only-trailer.csv", "id,amount\nTRAILER 0\n"),
    ]
    both(spark_engine, contract, files, work)


def test_value_rules(spark_engine: Any, work: str) -> None:
    contract = contract_of("""
source: {prefix: rules/, format: csv}
schema:
  - {name: code, type: string}
  - {name: n, type: int}
  - {name: price, type: "decimal(6,2)"}
  - {name: day, type: date}
  - {name: at, type: timestamp}
  - {name: score, type: float}
  - {name: flag, type: boolean}
  - {name: note, type: string}
quality:
  rules:
    - {regex: {column: code, pattern: '[A-Z]{3}-\\d+'}}
    - {allowed_values: {column: n, values: [1, 2, 3]}}
    - {allowed_values: {column: price, values: ["1.5", 2]}}
    - {allowed_values: {column: day, values: ["2024-01-01", "2024-01-02"]}}
    - {allowed_values: {column: flag, values: [true]}}
    - {allowed_values: {column: code, values: [ABC-1, ABC-2, abc-3]}}
    - {range: {column: day, min: "2024-01-01", max: "2024-01-31"}}
    - {range: {column: at, min: "2024-01-01T00:00:00", max: "2024-01-31T12:00:00+02:00"}}
    - {range: {column: score, min: -1.5, max: 1.5}}
    - {range: {column: note, min: b, max: m}}
    - {range: {column: n, min: 1.5}}
    - {max_length: {column: note, max: 5}}
    - {not_null: [n, note]}
  max_bad_ratio: 1.0
""")
    body = (
        "code,n,price,day,at,score,flag,note\n"
        "ABC-1,1,1.50,2024-01-01,2024-01-01 00:00:00,0,true,bb\n"
        "ABC-2,2,2.00,2024-01-02,2024-01-31 10:00:00,1.5,true,mm\n"
        "abc-3,3,1.5,2024-01-02,2024-01-31 10:00:01,nan,true,cc\n"
        "ABC-12,4,3,2024-02-01,2023-12-31 23:59:59,2,false,zzzzzz\n"
        "ABC-1\n,1,1.5,2024-01-01,2024-01-01 00:00:00,-inf,,a\n"
        ",,,,,,,\n"
        "XYZ-9 ,2,2,2024-01-01,2024-01-01 00:00:00,inf,1,é\n"
    )
    both(spark_engine, contract, [write(work, "rules.csv", body)], work)


def test_identity_and_combined_partitions(spark_engine: Any, work: str) -> None:
    contract = contract_of("""
source: {prefix: parts/, format: csv}
schema:
  - {name: region, type: string, nullable: false}
  - {name: shop, type: int}
  - {name: price, type: "decimal(12,4)"}
  - {name: open, type: boolean}
  - {name: at, type: timestamp}
  - {name: day, type: date}
partition_by:
  - {name: region}
  - {name: year, from: at, transform: year}
  - {name: shop}
quality: {max_bad_ratio: 1.0}
""")
    body = (
        "region,shop,price,open,at,day\n"
        "eu/west,1,0.0000,true,2024-01-01 00:00:00,2024-01-01\n"
        "eu/west,1,1.5,false,2023-12-31 23:59:59,0999-01-01\n"
        "us east,2,-0.00001,yes,2024-06-01T00:00:00+02:00,2024-01-01\n"
        '"",3,1e-4,no,1999-01-01,2024-01-01\n'
        "a=b%c,,1,1,2024-01-01,2024-01-01\n"
        "x,4,1,1,,2024-01-01\n"
    )
    both(spark_engine, contract, [write(work, "parts.csv", body)], work)
    other = contract_of("""
source: {prefix: parts2/, format: csv}
schema: [{name: price, type: "decimal(12,4)", nullable: false}, {name: open, type: boolean, nullable: false},
         {name: day, type: date}, {name: n, type: tinyint}]
partition_by: [{name: price}, {name: open}, {name: day}, ]
quality: {max_bad_ratio: 1.0}
""")
    body = "price,open,day,n\n0.00001,true,2024-01-01,1\n-12.5,false,0999-12-31,2\n0,t,2024-02-29,3\n"
    both(spark_engine, other, [write(work, "parts2.csv", body)], work)


def test_parquet_input(spark_engine: Any, work: str) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    contract = contract_of("""
source: {prefix: pq/, format: parquet}
schema:
  - {name: id, type: bigint, nullable: false}
  - {name: at, type: timestamp}
  - {name: amount, type: "decimal(10,2)"}
  - {name: label, type: varchar(4)}
  - {name: day, type: date}
  - {name: ratio, type: float}
  - {name: missing, type: string}
partition_by: [{name: month, from: day, transform: month}]
quality: {rules: [{unique: [id]}], max_bad_ratio: 1.0}
""")
    typed = pa.table(
        {
            "id": pa.array([1, 2, None, 4], pa.int64()),
            "at": pa.array([0, 10**15, None, -(10**12)], pa.timestamp("us")),
            "amount": pa.array([None, 1, 2, 3], pa.decimal128(10, 2)),
            "label": ["abcd", "abcde", None, "x"],
            "day": pa.array([0, 19000, 19001, None], pa.date32()),
            "ratio": pa.array([0.1, None, float("nan"), 2.5], pa.float32()),
            "extra": [1, 2, 3, 4],
        }
    )
    other_types = pa.table(
        {
            "id": pa.array([4, 5, 6], pa.int32()),
            "at": pa.array([0, 1, 2], pa.timestamp("ms", tz="UTC")),
            "amount": pa.array([1.5, 2.25, 3.125], pa.float64()),
            "label": pa.array([1, 22, 333], pa.int16()),
            "day": ["2024-01-01", "2024-02-30", None],
            "ratio": pa.array([1, 2, 3], pa.float64()),
        }
    )
    no_id = pa.table({"amount": pa.array([1], pa.decimal128(10, 2))})
    paths = []
    for name, table in (("typed.parquet", typed), ("other.parquet", other_types), ("no-id.parquet", no_id)):
        path = Path(work) / "raw" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(table, path)
        paths.append(path)
    paths.append(write(work, "not-parquet.parquet", "id,amount\n1,2\n"))
    both(spark_engine, contract, paths, work)


def test_many_small_files_in_shared_tasks(spark: Any, work: str) -> None:
    from lakeport.engine.spark.engine import SparkEngine

    files = [write(work, f"f{i:02d}.csv", f"id,amount\n{i},{i}\n{i % 5},1\n{i},x\n") for i in range(12)]
    python = run_engine(PythonEngine(), contract_of(KEYED.replace("0.5", "0.4")), files, work)
    spark_run = run_engine(SparkEngine(spark, task_bytes=60), contract_of(KEYED.replace("0.5", "0.4")), files, work)
    assert_same(python, spark_run)


@pytest.mark.parametrize("rules", ["[]", "[{unique: [id]}]"], ids=["sliced", "sliced-then-regrouped"])
def test_a_large_object_read_by_several_tasks(spark: Any, work: str, rules: str) -> None:
    from lakeport.engine.spark.engine import SparkEngine

    # JSON Lines are read 65,536 lines at a time: 200,000 lines are four batches, spread over 3 tasks
    lines = [
        f'{{"id": {i % 150_000}, "day": "2024-0{1 + i % 3}-{1 + i % 28:02d}", "v": "{"x" if i % 9973 == 0 else i}"}}'
        for i in range(200_000)
    ]
    lines[123_456] = "{broken"
    contract = contract_of(f"""
source: {{prefix: big/, format: jsonl}}
schema: [{{name: id, type: int, nullable: false}}, {{name: day, type: date}}, {{name: v, type: bigint}}]
partition_by: [{{name: month, from: day, transform: month}}]
quality: {{rules: {rules}, max_bad_ratio: 1.0}}
""")
    paths = [write(work, "big.jsonl", "\n".join(lines) + "\n"), write(work, "small.jsonl", '{"id": 1, "v": 1}\n')]
    python = run_engine(PythonEngine(), contract, paths, work)
    sliced = run_engine(
        SparkEngine(spark, slice_bytes=1 << 20, min_slice_bytes=1 << 20, max_slices=3), contract, paths, work
    )
    assert_same(python, sliced, same_names=rules != "[]")
    if rules == "[]":  # the second task's files are numbered from 10000
        assert any(name.endswith("-10000.parquet") for name in files_on_disk(sliced.root))
