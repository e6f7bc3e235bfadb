"""The front door of the usage engine: bring the index up to date, merge the gateway, report.

    stats = update_index(state_dir, config_dirs)          # read what is new in the transcripts
    report, warnings = usage_report(state_dir, prices=..., attribute=..., gateway_db=..., since=...)

Reading uses several processes when there is much to read (a first scan): the index itself is
written by this process only, one transaction per run.
"""

from __future__ import annotations

import json
import os
import pickle
import sqlite3
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from operator import itemgetter

from ccswitch.usage import index as usage_index
from ccswitch.usage import scan
from ccswitch.usage.attribution import Stamper
from ccswitch.usage.gateway import GatewayRequest, load_requests
from ccswitch.usage.prices import PriceTable, entries_for
from ccswitch.usage.report import (
    Attribute,
    Bucket,
    Report,
    attributed_profile,
    build_report,
    time_window,
)
from ccswitch.usage.scan import FileInfo, FileRead, ScanStats, file_info, find_transcripts
from ccswitch.usage.sessions import load_sessions
from ccswitch.usage.windows import Event

TYPE_CHECKING = False  # typing is not imported at run time (usage/__init__.py)
if TYPE_CHECKING:
    from typing import Any

# Below this much to read, starting processes costs more than it saves.
PARALLEL_MIN_BYTES = 64 << 20
_SIDECHAIN = itemgetter(usage_index.SIDECHAIN_COLUMN)  # of a row: any(map(...)) runs in C


class _index:
    """`with _index(state_dir, db) as db`: the connection given, left open, or a new one, closed after."""

    def __init__(self, state_dir: str, db: sqlite3.Connection | None, notes: list[str] | None = None) -> None:
        self.db, self.owned = (db, False) if db is not None else (usage_index.open_index(state_dir, notes), True)

    def __enter__(self) -> sqlite3.Connection:
        return self.db

    def __exit__(self, *exc: object) -> None:
        if self.owned:
            self.db.close()


def update_index(state_dir: str, config_dirs: Iterable[str], *, workers: int | None = None,
                 stamper: Stamper | None = None, notes: list[str] | None = None,
                 on_wait: Callable[[str], None] | None = None, later: list[Lookups] | None = None) -> ScanStats:
    """Read what is new in the transcripts under `config_dirs` into the index in `state_dir`.

    `stamper` knows the launches and `use` periods (default: the launches in `state_dir` only);
    `notes` receives a line when the index had to be rebuilt; `on_wait` hears that another
    `ccswitch usage` holds the index (a long first scan) before this one waits for it. With
    `later`, a first scan leaves its lookup indexes to a Lookups appended there, which the caller
    joins once it has read what it wanted.
    """
    stats = ScanStats()
    infos = find_transcripts(config_dirs, stats)
    with _index(state_dir, None, notes) as db:
        if usage_index.unchanged(db, infos):
            stats.files = len(infos)
            return stats  # the common repeat run: one read query, no write lock
        if stamper is None:
            launches, picked, _ = load_sessions(state_dir)  # the command layer reports malformed lines
            stamper = Stamper(launches, picked=picked)
        _begin_writing(db, on_wait)  # one writer at a time; a second `usage` waits for this one
        try:
            usage_index.apply_picked(db, stamper)
            jobs = usage_index.reread_neighbours(db, usage_index.plan(db, infos))
            first = usage_index.bulk(db)
            sidechain = False
            for job, read, rows in _read_all(jobs, stamper, workers):
                usage_index.store(db, job, read, rows)
                stats.add(read.stats)
                sidechain = sidechain or any(map(_SIDECHAIN, rows))
            deferred = first and later is not None
            if not deferred:
                usage_index.lookups_back(db)  # also restores those of a first scan that was cut short
            usage_index.match_picked(db, stamper)
            usage_index.finish(db, infos, bool(jobs), sidechain)
            if deferred:
                db.execute("PRAGMA wal_autocheckpoint = 0")  # the rows are checkpointed by Lookups too
                later.append(Lookups(state_dir))  # connected before this connection closes (see Lookups)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    if deferred:
        later[-1].start()
    stats.files = len(infos)
    return stats


class Lookups:
    """A first scan's last steps, building the lookup indexes and checkpointing the rows into the
    database file (~0.25 s on 2 GB), in a thread on a connection of its own while the report is
    computed (SQLite runs both without Python's lock). Its connection is opened before the writer's
    closes and closed last, in `join`: the last connection to close checkpoints what is left, with
    an fsync, and here that is only the index pages (the rows were checkpointed in the background).
    The report's connection closed last before, and checkpointed all 40 MB in the foreground (0.08 s).
    `join` before exiting."""

    def __init__(self, state_dir: str) -> None:
        import threading  # only a first scan pays for it (the status line imports this module)

        self.db = sqlite3.connect(os.path.join(state_dir, usage_index.INDEX_FILENAME), timeout=60.0,
                                  isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA synchronous = NORMAL")  # as the index's other connections (index._tune)
        self.db.execute("SELECT count(*) FROM sqlite_master").fetchone()  # a read: it now holds the file open
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, name="usage-lookups", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def _run(self) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            try:
                usage_index.lookups_back(self.db)
                self.db.execute("COMMIT")
            except BaseException:
                self.db.execute("ROLLBACK")
                raise
            self.db.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except BaseException as error:  # handed to the joining thread
            self.error = error

    def join(self) -> None:
        if self.thread.ident is not None:  # started: the writer committed
            self.thread.join()
        self.db.close()
        if self.error is not None:
            raise self.error


# How long a second `usage` waits for the first one's scan before giving up (a first scan of a few
# GB takes seconds to a minute on a slow disk).
WAIT_FOR_WRITER = 600.0


def _begin_writing(db: sqlite3.Connection, on_wait: Callable[[str], None] | None) -> None:
    db.execute("PRAGMA busy_timeout = 200")
    try:
        db.execute("BEGIN IMMEDIATE")
        return
    except sqlite3.OperationalError as error:
        if "locked" not in str(error) and "busy" not in str(error):
            raise
    if on_wait is not None:
        on_wait("another `ccswitch usage` is reading the transcripts into the index; waiting for it to finish")
    db.execute(f"PRAGMA busy_timeout = {int(WAIT_FOR_WRITER * 1000)}")
    db.execute("BEGIN IMMEDIATE")


def _read_all(
    jobs: list[usage_index.Job], stamper: Stamper, workers: int | None
) -> Iterator[tuple[usage_index.Job, FileRead, list[tuple[object, ...]]]]:
    to_read = sum(max(0, job.info.size - job.start) for job in jobs)
    count = workers if workers is not None else _cpu_count()
    if count <= 1 or to_read < PARALLEL_MIN_BYTES or len(jobs) < 2:
        for job in jobs:
            yield (job, *usage_index.read_rows(job, stamper))
        return
    yield from _read_in_processes(jobs, stamper, min(count, len(jobs)))


def _read_in_processes(
    jobs: list[usage_index.Job], stamper: Stamper, count: int
) -> Iterator[tuple[usage_index.Job, FileRead, list[tuple[object, ...]]]]:
    """Read the jobs in `count` processes, biggest first, each process taking the next job when
    it is done with one (a shared counter: the load evens out by bytes, and the last files to be
    read are the small ones). Each sends its results on its own pipe, which this process waits on
    in its one thread (no pool: a pool's helper threads cost this process as much CPU again as
    storing the rows). Results are yielded in that order whatever order they come in (the few
    that arrive early wait): where two files hold the same response with equal usage (a fork's
    copy), the one stored first is kept, so the index must not depend on which process was faster."""
    import multiprocessing  # only a first scan pays for it
    from multiprocessing.connection import wait

    by_size = sorted(jobs, key=lambda job: job.info.size - job.start, reverse=True)
    # fork is cheapest where it is safe (Linux); elsewhere the default (spawn) re-imports scan only
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    claimed = context.Value("l", 0)
    pipes, processes = [], []
    try:
        for _ in range(count):
            receiver, sender = context.Pipe(duplex=False)
            process = context.Process(target=_reader, args=(by_size, stamper, claimed, sender), daemon=True)
            process.start()
            sender.close()
            pipes.append(receiver)
            processes.append(process)
        arrived: dict[int, tuple[FileRead, list[tuple[object, ...]]]] = {}
        done = 0
        while pipes:
            for pipe in wait(pipes):
                try:
                    index, read, rows = pickle.loads(pipe.recv_bytes())
                except EOFError:
                    pipes.remove(pipe)
                    continue
                if index < 0:
                    raise RuntimeError(f"reading the transcripts failed: {read}")
                arrived[index] = read, rows
                while done in arrived:
                    yield (by_size[done], *arrived.pop(done))
                    done += 1
        if done != len(by_size):
            raise RuntimeError("a process reading the transcripts ended before it was done")
    finally:
        for pipe in pipes:
            pipe.close()
        for process in processes:
            if process.is_alive():
                process.terminate()
            process.join()


def _reader(jobs: list[usage_index.Job], stamper: Stamper, claimed: Any, pipe: Any) -> None:
    """A reading process: take the next job until none is left, send each one's rows."""
    scan.fast_json()
    try:
        while True:
            with claimed.get_lock():
                index = claimed.value
                claimed.value = index + 1
            if index >= len(jobs):
                return
            read, rows = usage_index.read_rows(jobs[index], stamper)
            pipe.send_bytes(pickle.dumps((index, read, rows), pickle.HIGHEST_PROTOCOL))
    except BaseException as error:  # a bug: reported by the parent, which rolls the index back
        pipe.send_bytes(pickle.dumps((-1, f"{type(error).__name__}: {error}", None)))
    finally:
        pipe.close()


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return os.cpu_count() or 1


# --- reporting ---------------------------------------------------------------------------------


def usage_report(
    state_dir: str,
    *,
    prices: Mapping[str, PriceTable],
    attribute: Attribute | None = None,
    gateway_db: str | None = None,
    since: float | None = None,
    until: float | None = None,
    by: str | None = None,
    session: str | None = None,
    db: sqlite3.Connection | None = None,
) -> tuple[Report, list[str]]:
    """The report over the index (and the gateway's records), and warnings to print; `session`:
    that session's responses only; `db`: an index connection to use (the status line's one).

    The buckets of a query are cached in the index, keyed on its generation, the window, the
    time zone, what the prices split on and the gateway file's stat: asking again with nothing
    changed costs one lookup, whatever the size of the history.
    """
    warnings: list[str] = []
    with _index(state_dir, db) as db:
        key = _cache_key(prices, since, until, gateway_db, session)
        current = usage_index.generation(db)
        buckets = _cached_buckets(db, key, current)
        if buckets is None:
            requests, problem = load_requests(gateway_db, since, until)
            if problem:
                warnings.append(problem)
            buckets = query_buckets(db, prices, requests, since, until, session)
            if not problem:
                _cache_buckets(db, key, current, buckets)
    return build_report(buckets, prices=prices, attribute=attribute, by=by), warnings


def update_transcripts(state_dir: str, paths: Iterable[str], stamper: Stamper,
                       db: sqlite3.Connection | None = None) -> bool:
    """Read what is new in these transcripts only (a session's and its subagents', for the status
    line) into the index, without looking at any other file. False when another process is writing
    the index (a long first scan): nothing is read, the caller reports from what is indexed."""
    infos = [info for info in map(_file_info, paths) if info is not None]
    with _index(state_dir, db) as db:
        db.execute("PRAGMA busy_timeout = 100")
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.OperationalError:
            return False
        try:
            usage_index.apply_picked(db, stamper)
            jobs = usage_index.plan(db, infos)
            sidechain = False
            for job in jobs:
                read, rows = usage_index.read_rows(job, stamper)
                usage_index.store(db, job, read, rows)
                sidechain = sidechain or any(map(_SIDECHAIN, rows))
            if sidechain:
                usage_index.drop_sidechain_replays(db)  # the subagents' files are read here, not by `usage`
            if jobs:
                usage_index.bump_generation(db)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    return True


def _file_info(path: str) -> FileInfo | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return file_info(path, st)


def _cache_key(prices: Mapping[str, PriceTable], since: float | None, until: float | None, gateway_db: str | None,
               session: str | None = None) -> str:
    gateway = []
    for path in (gateway_db, gateway_db + "-wal") if gateway_db else ():
        try:
            st = os.stat(path)
            gateway.append([path, st.st_size, st.st_mtime_ns])
        except OSError:
            gateway.append([path, None])
    zone = [time.timezone, time.altzone, time.daylight, list(time.tzname), os.environ.get("TZ")]
    return json.dumps([since, until, zone, _price_splits(prices), gateway, session])


def _cached_buckets(db: sqlite3.Connection, key: str, current: int) -> list[Bucket] | None:
    row = db.execute("SELECT buckets FROM bucket_cache WHERE key = ? AND generation = ?", (key, current)).fetchone()
    if row is None:
        return None
    try:
        return [Bucket(*item) for item in json.loads(row[0])]
    except (ValueError, TypeError):
        return None


def _cache_buckets(db: sqlite3.Connection, key: str, current: int, buckets: list[Bucket]) -> None:
    try:
        db.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError:
        return  # another `usage` holds the write lock: the cache is only a speed-up
    # Its commit does not checkpoint: after a first scan that fsynced ~40 MB of rows (0.07 s) in the
    # foreground; a first scan's Lookups checkpoints them in the background, or else the next writer.
    autocheckpoint = db.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
    db.execute("PRAGMA wal_autocheckpoint = 0")
    try:
        db.execute("DELETE FROM bucket_cache WHERE generation != ?", (current,))
        db.execute("INSERT OR REPLACE INTO bucket_cache VALUES (?, ?, ?)", (key, current, json.dumps(buckets)))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise
    finally:
        db.execute(f"PRAGMA wal_autocheckpoint = {int(autocheckpoint)}")


def query_buckets(
    db: sqlite3.Connection,
    prices: Mapping[str, PriceTable],
    requests: list[GatewayRequest],
    since: float | None,
    until: float | None,
    session: str | None = None,
) -> list[Bucket]:
    """Responses grouped by everything their price depends on, so costing is per group.

    A price can depend on the prompt size (tiers), the date (price changes), the hour (off-peak)
    and fast mode: a model's groups split at the tier thresholds and start dates of the entries
    `prices` has for it (in any profile), and by hour of the week when one has off-peak hours.
    Gateway records of responses that a transcript also holds only lend it their profile; the
    others are added as they are.
    """
    _load_gateway(db, requests)
    db.execute("PRAGMA threads = 1")  # a helper thread for the big sort of a first report: 0.36 -> 0.25 s on 2 GB
    stamps = "m.run_profile, m.use_profile"
    known = f"coalesce({_GATEWAY_PROFILE}, {stamps})" if requests else f"coalesce({stamps})"
    window, args = time_window("m.ts", since, until)
    gateway_only = "matched = 0"
    if session is not None:
        window += " AND m.session = ?"
        gateway_only += " AND session = ?"
        args = [*args, session, session]
    in_window = args[:-1] if session is not None else args  # the gateway's own session argument left out
    models = [row[0] for row in db.execute(
        f"SELECT DISTINCT model FROM messages AS m WHERE {window} UNION SELECT model FROM temp.gateway", in_window)]
    prompt = "(input_tokens + cache_read_tokens + cache_write_tokens)"
    tier, period, hour = _split_columns(_model_splits(prices, models), prompt)
    sql = f"""
        SELECT known_profile, session, model, date(ts, 'unixepoch', 'localtime') AS day, min(ts),
               {hour} AS how, min({prompt}), fast, count(*), sum(input_tokens), sum(output_tokens),
               sum(cache_read_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens),
               cwd, sum(turn_start), max(ts), {tier} AS tier, {period} AS period
        FROM (
            SELECT {known} AS known_profile, m.session, m.model, m.ts,
                   m.input_tokens, m.output_tokens, m.cache_read_tokens, m.cache_write_tokens,
                   m.cache_write_1h_tokens, m.fast, m.cwd, m.turn_start
            FROM messages AS m
            WHERE {window}
            UNION ALL
            SELECT profile, session, model, ts, input_tokens, output_tokens, cache_read_tokens,
                   cache_write_tokens, 0, 0, '', prompt
            FROM temp.gateway WHERE {gateway_only}
        )
        GROUP BY known_profile, session, model, day, how, fast, tier, period, cwd
    """
    # The GROUP BY's sorter fills as much memory as the page cache may hold before it spills a sorted
    # run for the helper thread to merge: with the index's 16 MiB (for a first scan's inserts) one big
    # in-memory sort took 0.32 s on 2 GB and 30 MiB more; with SQLite's default 2 MiB, 0.22 s.
    cache_size = db.execute("PRAGMA cache_size").fetchone()[0]
    db.execute("PRAGMA cache_size = -2000")
    try:
        return [
            Bucket(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), *r[8:17])
            for r in db.execute(sql, args)
        ]
    finally:
        db.execute(f"PRAGMA cache_size = {int(cache_size)}")


def usage_events(
    state_dir: str, *, since: float, attribute: Attribute | None = None, gateway_db: str | None = None,
    db: sqlite3.Connection | None = None,
) -> tuple[dict[str, list[Event]], list[str]]:
    """Each profile's responses since `since`, as quota events `(ts, 1, prompt, tokens)` in time
    order (attributed as the report attributes), and warnings to print."""
    requests, problem = load_requests(gateway_db, since, None)
    stamps = "m.run_profile, m.use_profile"
    known = f"coalesce({_GATEWAY_PROFILE}, {stamps})" if requests else f"coalesce({stamps})"
    tokens = "input_tokens + output_tokens + cache_read_tokens + cache_write_tokens"
    events: dict[str, list[Event]] = {}
    attributed: dict[str, str] = {}
    with _index(state_dir, db) as db:
        _load_gateway(db, requests)
        rows = db.execute(
            f"SELECT {known}, m.model, m.ts, m.turn_start, {tokens} FROM messages AS m WHERE m.ts >= ? "
            f"UNION ALL SELECT profile, model, ts, prompt, {tokens} FROM temp.gateway WHERE matched = 0 ORDER BY 3",
            (since,))
        for profile, model, ts, turn, total in rows:
            if profile is None:
                profile = attributed_profile(attributed, attribute, model)
            events.setdefault(profile, []).append((ts, 1, turn, total))
    return events, [problem] if problem else []


# Scalar lookups, not joins: two gateway records of one response must not count it twice.
_GATEWAY_PROFILE = (
    "(SELECT g.profile FROM temp.gateway AS g WHERE g.matched = 1 AND m.message_id != '' "
    "AND g.message_id = m.message_id AND g.profile IS NOT NULL LIMIT 1), "
    "(SELECT g.profile FROM temp.gateway AS g WHERE g.matched = 1 AND m.request_id != '' "
    "AND g.request_id = m.request_id AND g.profile IS NOT NULL LIMIT 1)"
)


def _model_splits(prices: Mapping[str, PriceTable], models: Iterable[str]) -> dict[str, tuple[list[int], list[float], bool]]:
    """For each model with any: the tier thresholds and price start dates of every entry any
    profile has for it (exact name or canonical Claude name), and whether one has off-peak hours."""
    splits = {}
    for model in models:
        thresholds: set[int] = set()
        starts: set[float] = set()
        hourly = False
        for table in prices.values():
            for entry in entries_for(table, model):
                thresholds.update(tier.above for tier in entry.tiers)
                if entry.effective_from > 0:
                    starts.add(entry.effective_from)
                hourly = hourly or entry.peak_hours is not None
        if thresholds or starts or hourly:
            splits[model] = (sorted(thresholds), sorted(starts), hourly)
    return splits


def _split_columns(splits: Mapping[str, tuple[list[int], list[float], bool]], prompt: str) -> tuple[str, str, str]:
    """SQL for a row's tier, price period and hour of the week (-1: not split by the hour), each a
    CASE on the model: a model no price splits costs one comparison per row and stays one group."""

    def case(parts: dict[str, str], default: str) -> str:
        whens = " ".join(f"WHEN '{model.replace(chr(39), chr(39) * 2)}' THEN {sql}" for model, sql in parts.items())
        return f"CASE model {whens} ELSE {default} END" if parts else default

    hour_of_week = ("((CAST(strftime('%w', ts, 'unixepoch') AS INTEGER) + 6) % 7) * 24"
                    " + CAST(strftime('%H', ts, 'unixepoch') AS INTEGER)")
    return (
        case({m: " + ".join(f"({prompt} > {int(t)})" for t in s[0]) for m, s in splits.items() if s[0]}, "0"),
        case({m: " + ".join(f"(ts >= {float(t)!r})" for t in s[1]) for m, s in splits.items() if s[1]}, "0"),
        case({m: hour_of_week for m, s in splits.items() if s[2]}, "-1"),
    )


def _price_splits(prices: Mapping[str, PriceTable]) -> tuple[list[int], list[float], list[str]]:
    """Every tier threshold and price start date, and the models priced by the hour: what a cached
    report depends on in the prices."""
    thresholds: set[int] = set()
    starts: set[float] = set()
    hourly: set[str] = set()
    for table in prices.values():
        for model, entries in table.items():
            for entry in entries:
                thresholds.update(tier.above for tier in entry.tiers)
                if entry.effective_from > 0:
                    starts.add(entry.effective_from)
                if entry.peak_hours is not None:
                    hourly.add(model)
    return sorted(thresholds), sorted(starts), sorted(hourly)


def _load_gateway(db: sqlite3.Connection, requests: list[GatewayRequest]) -> None:
    """The gateway's records as a temp table, each marked `matched` when a transcript has it."""
    db.execute(
        "CREATE TEMP TABLE IF NOT EXISTS gateway (ts REAL, session TEXT, profile TEXT, model TEXT, "
        "input_tokens INTEGER, output_tokens INTEGER, cache_read_tokens INTEGER, cache_write_tokens INTEGER, "
        "message_id TEXT, request_id TEXT, prompt INTEGER NOT NULL DEFAULT 0, matched INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("DELETE FROM temp.gateway")
    if not requests:
        return  # matching builds an index of every message id: not for nothing
    db.executemany("INSERT INTO temp.gateway VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)", requests)
    db.execute(
        "UPDATE temp.gateway SET matched = 1 WHERE (message_id != '' AND message_id IN (SELECT message_id FROM messages)) "
        "OR (request_id != '' AND request_id IN (SELECT request_id FROM messages WHERE request_id != ''))"
    )
    db.execute("CREATE INDEX IF NOT EXISTS temp.gateway_message ON gateway (message_id)")
    db.execute("CREATE INDEX IF NOT EXISTS temp.gateway_request ON gateway (request_id)")


def collect_and_report(
    state_dir: str,
    config_dirs: Iterable[str],
    *,
    prices: Mapping[str, PriceTable],
    attribute: Attribute | None = None,
    gateway_db: str | None = None,
    since: float | None = None,
    until: float | None = None,
    by: str | None = None,
    stamper: Stamper | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> tuple[Report, ScanStats, list[str]]:
    """update_index then usage_report: what `ccswitch usage` does. The warnings (skipped input,
    an unreadable gateway file, an index rebuilt) are for one line on stderr each."""

    def run(notes: list[str]) -> tuple[Report, ScanStats, list[str]]:
        later: list[Lookups] = []
        try:
            stats = update_index(state_dir, config_dirs, stamper=stamper, notes=notes, on_wait=on_wait, later=later)
            report, warnings = usage_report(
                state_dir, prices=prices, attribute=attribute, gateway_db=gateway_db, since=since, until=until, by=by)
        finally:
            for lookups in later:
                lookups.join()
        return report, stats, warnings

    report, stats, warnings, notes = repaired(state_dir, run)
    return report, stats, _said(notes, stats, warnings)


def collect_events(
    state_dir: str,
    config_dirs: Iterable[str],
    *,
    since: float,
    attribute: Attribute | None = None,
    gateway_db: str | None = None,
    stamper: Stamper | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> tuple[dict[str, list[Event]], ScanStats, list[str]]:
    """update_index then usage_events: what `ccswitch usage --windows` reads."""

    def run(notes: list[str]) -> tuple[dict[str, list[Event]], ScanStats, list[str]]:
        stats = update_index(state_dir, config_dirs, stamper=stamper, notes=notes, on_wait=on_wait)
        events, warnings = usage_events(state_dir, since=since, attribute=attribute, gateway_db=gateway_db)
        return events, stats, warnings

    events, stats, warnings, notes = repaired(state_dir, run)
    return events, stats, _said(notes, stats, warnings)


def _said(notes: list[str], stats: ScanStats, warnings: list[str]) -> list[str]:
    """Every line for stderr: an index rebuilt, a config dir misnamed, input skipped, the rest."""
    line = stats.warning()
    return notes + stats.notes + ([line] if line else []) + warnings


def repaired(state_dir: str, run: Callable[[list[str]], tuple[Any, ...]]) -> tuple[Any, ...]:
    """`run(notes)`, once more on a new index if the index turned out to be damaged (a page
    overwritten: "database disk image is malformed"); the result with the notes appended."""
    notes: list[str] = []
    try:
        return (*run(notes), notes)
    except sqlite3.OperationalError:
        raise  # locked, read-only, disk full: not the index's fault
    except sqlite3.DatabaseError as error:
        usage_index.rebuild(state_dir, str(error), notes).close()
    return (*run(notes), notes)
