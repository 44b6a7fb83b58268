"""Engines, sessions and migrations. SQLite (WAL) by default, PostgreSQL via DATABASE_URL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text

if TYPE_CHECKING:  # the ORM is imported only by commands that use sessions
    from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=10000")
    # Pages freed by a prune go back to the file system (bot.retention.vacuum). SQLite
    # only honours this before the first table is created, so only a new, empty file
    # gets it; an older one keeps its mode until one full VACUUM (`db prune --vacuum`).
    cur.execute("PRAGMA page_count")
    if cur.fetchone()[0] == 0:
        cur.execute("PRAGMA auto_vacuum=INCREMENTAL")
    # WAL lets readers (Slack answers) run while the feed writes; NORMAL is durable in WAL.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Ingest writes big batches: a 64 MiB page cache keeps the fingerprint index in
    # memory, and a larger WAL before auto-checkpoint writes pages dirtied by many
    # batches back once instead of after every commit (measured on 680k frames: commit
    # cost per frame 12.7 -> 8.7 us at 5,000-frame batches).
    cur.execute("PRAGMA cache_size=-65536")
    cur.execute("PRAGMA wal_autocheckpoint=20000")
    cur.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite"):
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(url, **kwargs)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision of every stage's migration branch."""
    from alembic import command

    command.upgrade(alembic_config(engine), "heads")



def script_revisions(versions: Path = MIGRATIONS_DIR / "versions") -> dict[str, tuple[str, ...]]:
    """Each migration script's revision -> its parents, read from the scripts' own
    `revision` / `down_revision` lines (no alembic import: read-only commands use it).
    Parsing every script is most of the revision check, so the graph is kept in the
    per-user cache (bot.diskcache) keyed by the scripts' names and bytes."""
    import marshal

    from bot import diskcache

    scripts = [(path.name, path.read_bytes()) for path in sorted(versions.glob("*.py"))]
    key = diskcache.key_of("revisions", [part for script in scripts for part in script])
    cached = diskcache.load(key)
    if cached is not None:
        try:
            found = marshal.loads(cached)
            if isinstance(found, dict):
                return found
        except (ValueError, EOFError, TypeError):  # damaged entry: parse the scripts
            pass
    graph = _parse_revisions(scripts)
    diskcache.store(key, marshal.dumps(graph))
    return graph


def _parse_revisions(scripts: list[tuple[str, bytes]]) -> dict[str, tuple[str, ...]]:
    import ast

    graph: dict[str, tuple[str, ...]] = {}
    for _name, source in scripts:
        values: dict[str, Any] = {}
        for node in ast.parse(source.decode("utf-8")).body:
            target: ast.expr
            if isinstance(node, ast.AnnAssign) and node.value is not None:
                target, value = node.target, node.value
            elif isinstance(node, ast.Assign) and len(node.targets) == 1:
                target, value = node.targets[0], node.value
            else:
                continue
            if isinstance(target, ast.Name) and target.id in ("revision", "down_revision"):
                values[target.id] = ast.literal_eval(value)
        if isinstance(values.get("revision"), str):
            down = values.get("down_revision")
            graph[values["revision"]] = (down,) if isinstance(down, str) else tuple(down or ())
    return graph


def script_heads() -> frozenset[str]:
    """The newest revision of each migration branch: what `upgrade heads` reaches."""
    graph = script_revisions()
    return frozenset(set(graph) - {p for parents in graph.values() for p in parents})


def stored_revisions(engine: Engine) -> frozenset[str]:
    """The revisions recorded in `alembic_version` (empty when the table is missing)."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return frozenset()
        rows = conn.execute(text("SELECT version_num FROM alembic_version"))
        return frozenset(r for (r,) in rows)


def schema_problem(engine: Engine) -> str | None:
    """None when the database is at every branch's newest revision, else what is off:
    "empty" (never migrated), "newer" (a revision these scripts do not know: upgraded
    by a newer faultbot) or "old" (a branch behind or missing)."""
    stored = stored_revisions(engine)
    if stored == script_heads():
        return None
    if not stored:
        return "empty"
    if stored - set(script_revisions()):
        return "newer"
    return "old"


@contextmanager
def scratch_postgres(server_url: str, prefix: str = "faultbot_scratch") -> Iterator[str]:
    """A new, migrated PostgreSQL database on `server_url`'s server (tests, benchmarks);
    yields its URL and drops it afterwards, even if it was closed to connections."""
    admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server_url.rsplit("/", 1)[0] + "/" + name
    engine = make_engine(url)
    migrate(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true'))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
