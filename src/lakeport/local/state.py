"""A local stack that keeps its state in a folder: S3 objects, DynamoDB items, the Glue Data Catalog.

``lakeport local up`` keeps what a deployment keeps (the buckets and every object version, the
ledgers and the contract registry in DynamoDB, the catalog's databases and tables) in a state
directory, so a restart, a SIGTERM or a ``kill -9`` loses nothing that was written. What is *not*
kept is what a restart recreates or what runs only while the stack runs: the provisioned resources
themselves (queues, the state machine, functions, roles, alarms are provisioned again, from the
current code), queued messages, executions and their history, logs and metrics.
:mod:`lakeport.local.restart` takes up what a stop interrupted.

**Durability.** Every request to S3, DynamoDB or Glue that changes something is answered only once
the change is in the folder: the server's WSGI application is wrapped (:meth:`LocalState.wrap`).

* DynamoDB and Glue writes are logged: each one that succeeded is appended to the service's log
  (``dynamodb.<n>.log``, one JSON line: path, the headers that route it, the body) before it is
  answered, in the order the writes applied (the service's writes go one at a time, as moto applies
  them anyway). Every few thousand writes, and at each start and stop, the log is folded into a
  snapshot (``dynamodb.pickle``: moto's table models, which names the last log it covers) and a new
  log begins. A start loads the snapshot and sends the later logs' writes to the emulator again.
  These writes are deterministic given the state before them (item values and conditions come from
  the client; a table's catalog version is a counter), so the replay rebuilds the same items.
* S3 keeps each key's versions in a file of its own (``s3/<account>/<partition>/<bucket>/keys/``,
  moto's version objects with their ids, ETags and timestamps), and each object version's bytes once
  in ``s3-objects/<id>``, written when the first flush after its upload sees it. A write waits for a
  flush by one flusher thread, which writes only the keys whose versions changed (it compares the
  version objects themselves), so the cost of a write does not grow with the bucket; concurrent
  writers share a flush, and a flush holds S3 writers off only while it pickles what changed.

Files are renamed into place or appended to, never ``fsync``-ed: a killed process loses nothing, a
machine that loses power may lose the last writes (this is a development stack).

**Restoring.** :meth:`LocalState.open` reads the folder (and takes a lock on it: one stack per
folder); provisioning then creates the resources as on a first start, and :meth:`LocalState.restore`
puts the kept content into them: a provisioned bucket gets its objects back (its configuration comes
from the current provisioning), a provisioned table its items, the catalog database its tables;
buckets, tables and databases created by hand come back whole. Object version ids, ETags and
timestamps are the ones they had, so the files ledger, which is keyed on version ids, still matches.

The pickles are tied to the moto version that wrote them: a folder written by another version is
refused with a message that says so, rather than loaded into objects whose fields moved.
"""

from __future__ import annotations

import base64
import copy
import errno
import hashlib
import io
import json
import logging
import os
import pickle
import shutil
import tempfile
import threading
import uuid
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Set, Tuple

from lakeport.errors import ConfigurationError

log = logging.getLogger(__name__)

STATE_FORMAT = 1
SERVICES = ("s3", "dynamodb", "glue")
LOGGED = ("dynamodb", "glue")
OBJECTS_FOLDER = "s3-objects"
BUCKETS_FOLDER = "s3"
COMPACT_AFTER = 5000  # writes logged before the log is folded into a new snapshot
MANIFEST = "state.json"
LOCK_FILE = "lock"
DEFAULT_STATE_DIR = ".lakeport"

# JSON-protocol actions that change nothing; every other action of a kept service is a write.
_READ_PREFIXES = ("Get", "List", "Describe", "Query", "Scan", "BatchGet", "Search", "TransactGet")

WsgiApp = Callable[[Dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class StateDirError(ConfigurationError):
    """The state directory cannot be used: taken by another stack, written by another version, or damaged."""


def service_of(environ: Dict[str, Any]) -> Optional[str]:
    """The service a signed request is for, from its credential scope (header or presigned URL)."""
    authorization = str(environ.get("HTTP_AUTHORIZATION") or "")
    scope = ""
    if "Credential=" in authorization:
        scope = authorization.split("Credential=", 1)[1].split(",", 1)[0]
    else:
        query = str(environ.get("QUERY_STRING") or "")
        for part in query.split("&"):
            name, _, value = part.partition("=")
            if name.lower() == "x-amz-credential":
                from urllib.parse import unquote

                scope = unquote(value)
                break
    parts = scope.split("/")
    return parts[3] if len(parts) >= 5 else None


def is_write(service: str, environ: Dict[str, Any]) -> bool:
    """Whether a request to ``service`` may change what it stores."""
    if service == "s3":
        return str(environ.get("REQUEST_METHOD", "GET")).upper() in ("PUT", "POST", "DELETE")
    target = str(environ.get("HTTP_X_AMZ_TARGET") or "")
    action = target.rsplit(".", 1)[-1]
    return not action.startswith(_READ_PREFIXES)


class _SharedExclusive:
    """Many holders of the shared side at once, or one holder of the exclusive side; a waiting
    exclusive holder keeps new shared holders out, so a flush is never starved by a stream of writes."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._shared = 0
        self._exclusive = False
        self._waiting = 0

    def acquire_shared(self) -> None:
        with self._cond:
            while self._exclusive or self._waiting:
                self._cond.wait()
            self._shared += 1

    def release_shared(self) -> None:
        with self._cond:
            self._shared -= 1
            if not self._shared:
                self._cond.notify_all()

    def acquire_exclusive(self) -> None:
        with self._cond:
            self._waiting += 1
            while self._exclusive or self._shared:
                self._cond.wait()
            self._waiting -= 1
            self._exclusive = True

    def release_exclusive(self) -> None:
        with self._cond:
            self._exclusive = False
            self._cond.notify_all()


@dataclass
class RestoreSummary:
    """What :meth:`LocalState.restore` put back."""

    buckets: int = 0
    objects: int = 0
    tables: int = 0
    items: int = 0
    catalog_tables: int = 0
    restored: bool = False

    def describe(self) -> str:
        if not self.restored:
            return "nothing kept yet (first start)"
        return (
            f"{self.objects} object version(s) in {self.buckets} bucket(s), {self.items} item(s) in"
            f" {self.tables} DynamoDB table(s), {self.catalog_tables} catalog table(s)"
        )


@dataclass
class _Flush:
    generation: int = 0
    flushed: int = 0
    dirty: Set[str] = field(default_factory=set)
    error: Optional[BaseException] = None


def _backends(service: str) -> Any:
    from moto.backends import get_backend

    return get_backend(service)  # type: ignore[call-overload]


def _regions(service: str) -> Iterator[Tuple[str, str, Any]]:
    """(account, region, backend) of every backend moto has created for ``service``."""
    for account, regions in list(_backends(service).items()):
        for region, backend in list(regions.items()):
            yield account, region, backend


# What is kept of each service: the dictionary of named resources of each backend.
_CONTENT = {"s3": "buckets", "dynamodb": "tables", "glue": "databases"}


class LocalState:
    """Keep the emulator's S3, DynamoDB and Glue catalog content in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.objects_dir = self.directory / OBJECTS_FOLDER
        self.buckets_dir = self.directory / BUCKETS_FOLDER
        self._loaded: Dict[str, Dict[Tuple[str, str], Dict[str, Any]]] = {}
        self._replay: Dict[str, List[Path]] = {}
        self._generation: Dict[str, int] = {}
        self._logs: Dict[str, Any] = {}
        self._log_entries: Dict[str, int] = {}
        self._service_locks = {service: threading.Lock() for service in LOGGED}
        self._lock_handle: Optional[io.TextIOWrapper] = None
        self._gate = _SharedExclusive()
        self._cond = threading.Condition()
        self._state = _Flush()
        self._active = False
        self._stopping = False
        self._thread: Optional[threading.Thread] = None
        # each object version's bytes are written once; the key object -> its file's name
        self._object_files: weakref.WeakKeyDictionary[Any, str] = weakref.WeakKeyDictionary()
        self._loaded_keys: Dict[str, Any] = {}
        # per bucket, the versions of each key as last written: a flush writes the keys that differ
        self._written: Dict[Tuple[str, str, str], Dict[str, Tuple[Any, ...]]] = {}
        self.flushes = 0

    # -- opening and restoring -----------------------------------------------------------------

    def open(self) -> None:
        """Create or read the folder, take its lock, load what it keeps (nothing is applied yet)."""
        import moto

        self.directory.mkdir(parents=True, exist_ok=True)
        self.objects_dir.mkdir(exist_ok=True)
        self.buckets_dir.mkdir(exist_ok=True)
        self._take_lock()
        try:
            self._check_manifest(moto.__version__)
            self._loaded["s3"] = self._load_buckets()
            for service in LOGGED:
                self._load_snapshot(service)
        except StateDirError:
            self.close()
            raise
        except Exception as exc:
            self.close()
            raise StateDirError(
                f"the local state in {self.directory} cannot be read: {exc}",
                hint=f"move {self.directory} aside to start empty, or start with --ephemeral",
            ) from None
        (self.directory / MANIFEST).write_text(
            json.dumps({"format": STATE_FORMAT, "moto": moto.__version__}, indent=2) + "\n", encoding="utf-8"
        )

    def _check_manifest(self, version: str) -> None:
        manifest_path = self.directory / MANIFEST
        if not manifest_path.exists():
            return
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise StateDirError(
                f"the local state in {self.directory} is damaged: {MANIFEST} is not JSON ({exc})",
                hint=f"move {self.directory} aside to start empty, or start with --ephemeral",
            ) from None
        if manifest.get("format") != STATE_FORMAT or manifest.get("moto") != version:
            raise StateDirError(
                f"the local state in {self.directory} was written with state format"
                f" {manifest.get('format')} and moto {manifest.get('moto')}; this lakeport uses format"
                f" {STATE_FORMAT} and moto {version}, and cannot read it",
                hint=f"move {self.directory} aside (or delete it) to start empty, or start with --ephemeral",
            )

    def _unpickle(self, path: Path) -> Any:
        try:
            with path.open("rb") as handle:
                return _Unpickler(handle, self).load()
        except Exception as exc:
            raise StateDirError(
                f"the local state in {self.directory} cannot be read:"
                f" {path.relative_to(self.directory)}: {type(exc).__name__}: {exc}",
                hint=f"move {self.directory} aside to start empty, or start with --ephemeral",
            ) from None

    def _load_buckets(self) -> Dict[Tuple[str, str], Dict[str, Any]]:
        from moto.s3.utils import _VersionedKeyStore

        found: Dict[Tuple[str, str], Dict[str, Any]] = {}
        for folder in sorted(self.buckets_dir.glob("*/*/*")):
            account, region, name = folder.relative_to(self.buckets_dir).parts
            if not (folder / "bucket.pickle").exists():
                continue
            bucket = self._unpickle(folder / "bucket.pickle")
            bucket.keys = _VersionedKeyStore()
            written = self._written.setdefault((account, region, name), {})
            for path in sorted((folder / "keys").glob("*.pickle")):
                key, versions = self._unpickle(path)
                dict.__setitem__(bucket.keys, key, versions)
                written[key] = tuple(versions)
            found.setdefault((account, region), {})[name] = bucket
        return found

    def _load_snapshot(self, service: str) -> None:
        covers = 0
        path = self.directory / f"{service}.pickle"
        if path.exists():
            snapshot = self._unpickle(path)
            covers = int(snapshot["covers"])
            self._loaded[service] = snapshot["content"]
        logs = sorted(self.directory.glob(f"{service}.*.log"), key=lambda p: int(p.name.split(".")[1]))
        self._replay[service] = [log for log in logs if int(log.name.split(".")[1]) > covers]
        self._generation[service] = max([covers, *(int(log.name.split(".")[1]) for log in logs)])

    def _take_lock(self) -> None:
        import fcntl

        handle = (self.directory / LOCK_FILE).open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            handle.close()
            if exc.errno in (errno.EAGAIN, errno.EACCES):
                raise StateDirError(
                    f"another local stack is using the state in {self.directory}",
                    hint="stop it first, or give this one another --state-dir (or --ephemeral)",
                ) from None
            raise
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._lock_handle = handle

    def restore(self, endpoint_url: str) -> RestoreSummary:
        """Put the loaded content into the (freshly provisioned) emulator, replay the writes logged
        after the last snapshot through ``endpoint_url``, and start keeping what changes."""
        summary = RestoreSummary(restored=any(self._loaded.values()) or any(self._replay.values()))
        for service, content in self._loaded.items():
            for (account, region), named in content.items():
                backend = _backends(service)[account][region]
                live = getattr(backend, _CONTENT[service])
                for name, resource in named.items():
                    getattr(self, f"_restore_{service}")(live, name, resource)
        self._loaded.clear()
        for logs in self._replay.values():
            for log_path in logs:
                _replay_log(log_path, endpoint_url)
        self._replay.clear()
        self._count(summary)
        for service in LOGGED:
            self._compact(service)
        self._active = True
        self._thread = threading.Thread(target=self._flusher, name="lakeport-local-state", daemon=True)
        self._thread.start()
        self._wait_for(self._mark_dirty({"s3"}))
        self._collect_object_files()
        return summary

    @staticmethod
    def _count(summary: RestoreSummary) -> None:
        if not summary.restored:
            return
        for _, _, backend in _regions("s3"):
            for bucket in list(backend.buckets.values()):
                summary.buckets += 1
                summary.objects += sum(len(versions) for versions in dict(bucket.keys).values())
        for _, _, backend in _regions("dynamodb"):
            for table in list(backend.tables.values()):
                summary.tables += 1
                summary.items += len(table)
        for _, _, backend in _regions("glue"):
            summary.catalog_tables += sum(len(database.tables) for database in list(backend.databases.values()))

    @staticmethod
    def _restore_s3(live: Dict[str, Any], name: str, bucket: Any) -> None:
        from moto.s3.models import s3_backends

        if name in live:
            live[name].keys = bucket.keys
        else:
            live[name] = bucket
            s3_backends.bucket_accounts[name] = (bucket.partition, bucket.account_id)

    @staticmethod
    def _restore_dynamodb(live: Dict[str, Any], name: str, table: Any) -> None:
        if name in live:
            live[name].items = table.items
        else:
            live[name] = table

    @staticmethod
    def _restore_glue(live: Dict[str, Any], name: str, database: Any) -> None:
        if name in live:
            live[name].tables = database.tables
        else:
            live[name] = database

    # -- the request hook ----------------------------------------------------------------------

    def wrap(self, app: WsgiApp) -> WsgiApp:
        """The server's application, answering a write to a kept service only once it is on disk."""

        def application(environ: Dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
            service = service_of(environ)
            if not self._active or service not in SERVICES or not is_write(service, environ):
                return app(environ, start_response)
            answered: List[Any] = []

            def hold(status: str, headers: List[Tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], Any]:
                answered[:] = [status, headers, exc_info]
                return lambda data: None

            if service in LOGGED:
                length = int(environ.get("CONTENT_LENGTH") or 0)
                request = environ["wsgi.input"].read(length) if length else b""
                environ["wsgi.input"] = io.BytesIO(request)
                with self._service_locks[service]:  # the log's order is the order the writes applied in
                    body = b"".join(app(environ, hold))
                    if answered and str(answered[0])[:1] == "2":
                        self._append(service, environ, request)
            else:
                self._gate.acquire_shared()
                try:
                    body = b"".join(app(environ, hold))
                finally:
                    self._gate.release_shared()
                if answered and str(answered[0])[:1] == "2":
                    self._wait_for(self._mark_dirty({service}))
            if not answered:
                answered = ["500 INTERNAL SERVER ERROR", []]
            start_response(*answered)
            return [body]

        return application

    # -- DynamoDB and Glue: a log of their writes, folded into a snapshot now and then -----------

    def _append(self, service: str, environ: Dict[str, Any], request: bytes) -> None:
        entry = {
            "path": str(environ.get("PATH_INFO") or "/"),
            "query": str(environ.get("QUERY_STRING") or ""),
            "headers": {
                name: str(environ[key]) for name, key in _REPLAYED_HEADERS.items() if environ.get(key) is not None
            },
            "body": base64.b64encode(request).decode("ascii"),
        }
        self._logs[service].write(json.dumps(entry, separators=(",", ":")) + "\n")
        self._logs[service].flush()  # in the operating system's hands: a killed process loses nothing
        self._log_entries[service] += 1
        if self._log_entries[service] >= COMPACT_AFTER:
            self._compact(service)

    def _compact(self, service: str) -> None:
        """Write a snapshot of ``service`` covering its log so far; start a new log. The caller holds
        the service's lock (or nothing writes yet)."""
        covered = self._generation[service]
        content = {
            (account, region): dict(getattr(backend, _CONTENT[service]))
            for account, region, backend in _regions(service)
        }
        buffer = io.BytesIO()
        _Pickler(buffer, self).dump({"covers": covered, "content": content})
        self._generation[service] = covered + 1
        if self._logs.get(service) is not None:
            self._logs[service].close()
        self._logs[service] = (self.directory / f"{service}.{covered + 1}.log").open("a", encoding="utf-8")
        self._log_entries[service] = 0
        _replace(self.directory / f"{service}.pickle", buffer.getvalue())
        for old in self.directory.glob(f"{service}.*.log"):
            if int(old.name.split(".")[1]) <= covered:
                old.unlink(missing_ok=True)

    # -- S3: each key's versions in a file of its own, written when they change ------------------

    def _mark_dirty(self, services: Set[str]) -> int:
        with self._cond:
            self._state.dirty |= services
            self._state.generation += 1
            self._cond.notify_all()
            return self._state.generation

    def _wait_for(self, generation: int) -> None:
        with self._cond:
            while self._state.flushed < generation and self._state.error is None:
                self._cond.wait()
            if self._state.error is not None:
                raise StateDirError(
                    f"the local state in {self.directory} can no longer be written: {self._state.error}",
                    hint="free disk space or fix the folder's permissions, then restart the stack",
                )

    def _flusher(self) -> None:
        while True:
            with self._cond:
                while not self._state.dirty and not self._stopping:
                    self._cond.wait()
                if not self._state.dirty and self._stopping:
                    return
            try:
                self.flush()
            except Exception as exc:  # a full disk: every waiting write fails loudly, none is lost silently
                log.error("the local state in %s cannot be written: %s", self.directory, exc)
                with self._cond:
                    self._state.error = exc
                    self._cond.notify_all()
                return

    def flush(self) -> None:
        """Write the S3 keys whose versions changed since the last flush, and the buckets' settings."""
        self._gate.acquire_exclusive()
        try:
            with self._cond:
                self._state.dirty = set()
                generation = self._state.generation
            writes, removed = self._changes()
        finally:
            self._gate.release_exclusive()
        for path, payload in writes:
            path.parent.mkdir(parents=True, exist_ok=True)
            _replace(path, payload)
        for path in removed:
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
        with self._cond:
            self._state.flushed = max(self._state.flushed, generation)
            self.flushes += 1
            self._cond.notify_all()

    def _changes(self) -> Tuple[List[Tuple[Path, bytes]], List[Path]]:
        """What to write and delete (pickled now, while no S3 write runs; written after)."""
        writes: List[Tuple[Path, bytes]] = []
        removed: List[Path] = []
        live: Set[Tuple[str, str, str]] = set()
        for account, region, backend in _regions("s3"):
            for name, bucket in list(backend.buckets.items()):
                where = (account, region, name)
                live.add(where)
                folder = self.buckets_dir / account / region / name
                writes.append((folder / "bucket.pickle", self._pickle(_settings_of(bucket))))
                written = self._written.setdefault(where, {})
                current = dict(bucket.keys)
                for key, versions in current.items():
                    before = written.get(key)
                    if (
                        before is None
                        or len(before) != len(versions)
                        or any(a is not b for a, b in zip(before, versions))
                    ):
                        writes.append((folder / "keys" / f"{_digest(key)}.pickle", self._pickle((key, list(versions)))))
                        written[key] = tuple(versions)
                for key in [k for k in written if k not in current]:
                    removed.append(folder / "keys" / f"{_digest(key)}.pickle")
                    del written[key]
        for where in [w for w in self._written if w not in live]:
            removed.append(self.buckets_dir.joinpath(*where))
            del self._written[where]
        return writes, removed

    def _pickle(self, value: Any) -> bytes:
        buffer = io.BytesIO()
        _Pickler(buffer, self).dump(value)
        return buffer.getvalue()

    def object_file(self, key: Any) -> str:
        """The name of the file holding ``key``'s bytes, written now if it is the first time."""
        name = self._object_files.get(key)
        if name is None:
            name = uuid.uuid4().hex
            try:
                data = key.value
            except ValueError:  # a disposed (overwritten, deleted) key: moto keeps no bytes for it
                data = b""
            _replace(self.objects_dir / name, data)
            self._object_files[key] = name
        return name

    def _collect_object_files(self) -> None:
        """Delete object files no kept object version refers to (left by deletes and overwrites)."""
        referenced = {
            self._object_files[v]
            for written in self._written.values()
            for versions in written.values()
            for version in versions
            for v in (version, getattr(version, "key", None))
            if v is not None and v in self._object_files
        }
        for path in self.objects_dir.iterdir():
            if path.name not in referenced and not path.name.startswith("."):
                path.unlink(missing_ok=True)

    def close(self) -> None:
        """Flush what is left, fold the logs into snapshots, tidy the object files, release the folder."""
        if self._thread is not None:
            with self._cond:
                self._stopping = True
                self._cond.notify_all()
            self._thread.join()
            self._thread = None
            self._active = False
            if self._state.error is None:
                self.flush()
                for service in LOGGED:
                    with self._service_locks[service]:
                        self._compact(service)
                self._collect_object_files()
        for handle in self._logs.values():
            handle.close()
        self._logs.clear()
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None


_REPLAYED_HEADERS = {
    "Authorization": "HTTP_AUTHORIZATION",
    "Content-Type": "CONTENT_TYPE",
    "X-Amz-Target": "HTTP_X_AMZ_TARGET",
    "X-Amz-Date": "HTTP_X_AMZ_DATE",
}


def _replay_log(path: Path, endpoint_url: str) -> None:
    """Send a log's writes to the emulator again, in their order."""
    import urllib.error
    import urllib.request

    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.endswith("\n"):
                break  # the last line of a log cut off by a kill: its write was never answered
            entry = json.loads(line)
            url = f"{endpoint_url}{entry['path']}" + (f"?{entry['query']}" if entry["query"] else "")
            request = urllib.request.Request(
                url, data=base64.b64decode(entry["body"]), headers=entry["headers"], method="POST"
            )
            try:
                with urllib.request.urlopen(request, timeout=60) as answer:
                    answer.read()
            except urllib.error.HTTPError as exc:
                log.warning("%s line %d: the write answered %s when replayed", path.name, number, exc.code)


def _settings_of(bucket: Any) -> Any:
    """A bucket without its objects and uploads in progress: what bucket.pickle keeps."""
    from moto.s3.models import MultipartDict
    from moto.s3.utils import _VersionedKeyStore

    settings = copy.copy(bucket)
    settings.keys = _VersionedKeyStore()
    settings.multiparts = MultipartDict()
    return settings


def _digest(key: str) -> str:
    return hashlib.sha1(key.encode("utf-8"), usedforsecurity=False).hexdigest()


def _replace(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# An S3 object version is pickled as its fields and the name of the file holding its bytes.
_KEY_TAG = "lakeport-s3-object"


class _Pickler(pickle.Pickler):
    def __init__(self, file: io.BytesIO, state: LocalState) -> None:
        super().__init__(file, protocol=pickle.HIGHEST_PROTOCOL)
        self._state = state

    def persistent_id(self, obj: Any) -> Any:
        from moto.s3.models import FakeKey

        if isinstance(obj, FakeKey):
            fields = {k: v for k, v in obj.__dict__.items() if k not in ("_value_buffer", "lock")}
            # an object a multipart upload made keeps its parts (each a key with its bytes) only
            # for reads by part number; kept, they would store the bytes twice
            fields["multipart"] = None
            return (_KEY_TAG, type(obj), self._state.object_file(obj), fields)
        return None


class _Unpickler(pickle.Unpickler):
    def __init__(self, file: Any, state: LocalState) -> None:
        super().__init__(file)
        self._state = state
        self._keys = state._loaded_keys  # one object per file, whichever pickle refers to it

    def persistent_load(self, pid: Any) -> Any:
        tag, cls, name, fields = pid
        if tag != _KEY_TAG:
            raise pickle.UnpicklingError(f"unknown reference {tag!r}")
        if name in self._keys:
            return self._keys[name]
        key = cls.__new__(cls)
        key.__dict__.update(fields)
        key.lock = threading.Lock()
        # the key owns its buffer for as long as it lives, as moto's own keys do
        key._value_buffer = tempfile.SpooledTemporaryFile(max_size=key._max_buffer_size)  # noqa: SIM115
        with (self._state.objects_dir / name).open("rb") as source:
            while True:
                chunk = source.read(1 << 20)
                if not chunk:
                    break
                key._value_buffer.write(chunk)
        self._state._object_files[key] = name
        self._keys[name] = key
        return key


__all__ = ["DEFAULT_STATE_DIR", "LocalState", "RestoreSummary", "StateDirError", "is_write", "service_of"]
