"""A small deployment on the emulator for component tests: buckets, tables, and helpers to use them."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Union

from lakeport.aws import AwsContext
from lakeport.contract import Contract, load_contract_file, load_contract_text
from lakeport.examples import FOLDER as EXAMPLES
from lakeport.ingest import Ingestor, IngestRequest, RunSummary
from lakeport.ledger.files import SourceObject
from lakeport.ledger.tables import create_tables
from lakeport.registry import ContractRegistry
from lakeport.resources import Resources
from lakeport.s3objects import head_object


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
        s3.create_bucket(Bucket=self.resources.athena_results_bucket)
        aws.client("athena").create_work_group(  # 'lakeport query' asks the deployment's workgroup
            Name=self.resources.athena_workgroup,
            Configuration={"ResultConfiguration": {"OutputLocation": f"s3://{self.resources.athena_results_bucket}/"}},
        )
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

        return LocalQueryEngine.for_context(self.aws).execute(sql).to_pylist()

    def table(self, dataset: str) -> Any:
        """The dataset's Iceberg table as it is now."""
        return self.ingestor.tables.load(self.registry.get(dataset))

    def partitions(self, dataset: str) -> Dict[tuple, List[str]]:
        """The current snapshot's data files by partition (the values as they appear in the paths)."""
        from urllib.parse import unquote

        from lakeport.iceberg.reading import data_files, resolve_snapshot

        table = self.table(dataset)
        out: Dict[tuple, List[str]] = {}
        for path in data_files(table, resolve_snapshot(table, None)):
            folders = path.split("/data/", 1)[1].split("/")[:-1]
            values = tuple(unquote(f.split("=", 1)[1]) for f in folders)
            out.setdefault(values, []).append(path)
        return out

    def read_curated(self, dataset: str, columns: Optional[List[str]] = None) -> List[dict]:
        """Every live row of a dataset, read straight from the current snapshot's data files (no SQL)."""
        from lakeport.iceberg.reading import resolve_snapshot, snapshot_dataset

        table = self.table(dataset)
        dataset_ = snapshot_dataset(table, self.aws.s3_filesystem(), resolve_snapshot(table, None))
        return dataset_.to_table(columns=columns).to_pylist()
