"""A small deployment on the emulator for component tests: buckets, tables, and helpers to use them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, List, Optional, Union

from lakeport.aws import AwsContext
from lakeport.contract import Contract, load_contract_file, load_contract_text
from lakeport.ingest import Ingestor, IngestRequest, RunSummary
from lakeport.ledger.files import SourceObject
from lakeport.ledger.tables import create_tables
from lakeport.registry import ContractRegistry
from lakeport.resources import Resources
from lakeport.s3objects import head_object

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


class Lake:
    def __init__(self, aws: AwsContext) -> None:
        self.aws = aws
        self.resources = Resources.for_deployment()
        s3 = aws.client("s3")
        for bucket in (
            self.resources.raw_bucket,
            self.resources.curated_bucket,
            self.resources.quarantine_bucket,
            self.resources.artifacts_bucket,
        ):
            s3.create_bucket(Bucket=bucket)
        s3.put_bucket_versioning(Bucket=self.resources.raw_bucket, VersioningConfiguration={"Status": "Enabled"})
        create_tables(aws.client("dynamodb"), self.resources)
        self.registry = ContractRegistry(aws.client("dynamodb"), self.resources.datasets_table)
        self.ingestor = Ingestor(aws, self.resources)

    # contracts ---------------------------------------------------------------------------------
    def apply(self, contract: Union[str, Path, Contract]) -> Contract:
        if isinstance(contract, Path):
            contract = load_contract_file(contract)
        elif isinstance(contract, str):
            contract = load_contract_text(contract)
        self.registry.apply(contract, applied_by="test", allow_breaking=True)
        return self.registry.get(contract.dataset)

    def apply_example(self, name: str) -> Contract:
        return self.apply(EXAMPLES / "contracts" / f"{name}.yaml")

    # raw files -----------------------------------------------------------------------------------
    def put(self, key: str, body: Union[bytes, str]) -> SourceObject:
        data = body.encode("utf-8") if isinstance(body, str) else body
        s3 = self.aws.client("s3")
        s3.put_object(Bucket=self.resources.raw_bucket, Key=key, Body=data)
        return head_object(s3, self.resources.raw_bucket, key)

    def put_example(self, relative: str) -> SourceObject:
        return self.put(relative, (EXAMPLES / "raw" / relative).read_bytes())

    def ingest(self, dataset: str, objects: List[SourceObject], **kwargs: Any) -> RunSummary:
        return self.ingestor.run(IngestRequest(dataset=dataset, objects=objects, **kwargs))

    # reading back --------------------------------------------------------------------------------
    def query(self, sql: str) -> List[dict]:
        from lakeport.query import LocalQueryEngine

        return LocalQueryEngine(self.aws.client("glue"), self.aws.s3_filesystem()).execute(sql).to_pylist()

    def partitions(self, dataset: str) -> dict:
        database, table = dataset.split(".")
        return dict(self.ingestor.catalog.get_partitions(database, table))

    def read_curated(self, dataset: str, columns: Optional[List[str]] = None) -> List[dict]:
        """Every live row of a dataset, read straight from the files the catalog points at (no SQL)."""
        import pyarrow.parquet as pq

        from lakeport.engine.generations import list_parquet

        fs = self.aws.s3_filesystem()
        rows: List[dict] = []
        contract = self.registry.get(dataset)
        locations = (
            self.partitions(dataset)
            if contract.partition_by
            else {(): self.ingestor.catalog.table_location(contract.database, contract.table)}
        )
        for values, location in locations.items():
            for uri in list_parquet(fs, location):
                table = pq.read_table(uri[len("s3://") :], filesystem=fs, columns=columns)
                for row in table.to_pylist():
                    row.update(zip([p.name for p in contract.partition_by], values))
                    rows.append(row)
        return rows
