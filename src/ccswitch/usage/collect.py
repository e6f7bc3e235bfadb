"""The front door of the usage engine: bring the index up to date, merge the gateway, report.

    stats = update_index(state_dir, config_dirs)          # read what is new in the transcripts
    report, warnings = usage_report(state_dir, prices=..., attribute=..., gateway_db=..., since=...)

Reading uses several processes when there is much to read (a first scan): the index itself is
written by this process only, one transaction per run.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import closing

from ccswitch.usage import index as usage_index
from ccswitch.usage.gateway import GatewayRequest, load_requests
from ccswitch.usage.prices import PriceTable
from ccswitch.usage.report import Attribute, Bucket, Report, build_report, time_window
from ccswitch.usage.scan import FileRead, ScanStats, find_transcripts
from ccswitch.usage.sessions import Launches, load_sessions

# Below this much to read, starting processes costs more than it saves.
PARALLEL_MIN_BYTES = 64 << 20


def update_index(state_dir: str, config_dirs: Iterable[str], *, workers: int | None = None) -> ScanStats:
    """Read what is new in the transcripts under `config_dirs` into the index in `state_dir`."""
    stats = ScanStats()
    infos = find_transcripts(config_dirs, stats)
    with closing(usage_index.open_index(state_dir)) as db:
        if usage_index.unchanged(db, infos):
            stats.files = len(infos)
            return stats  # the common repeat run: one read query, no write lock
        launches, stats.bad_run_records = load_sessions(state_dir)
        db.execute("BEGIN IMMEDIATE")  # one writer at a time; a second `usage` waits for this one
        try:
            jobs = usage_index.reread_neighbours(db, usage_index.plan(db, infos))
            sidechain = False
            for job, read, rows in _read_all(jobs, launches, workers):
                usage_index.store(db, job, read, rows)
                stats.add(read.stats)
                sidechain = sidechain or any(row[usage_index.SIDECHAIN_COLUMN] for row in rows)
            usage_index.finish(db, infos, bool(jobs), sidechain)
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
    stats.files = len(infos)
    return stats


def _read_all(
    jobs: list[usage_index.Job], launches: Launches, workers: int | None
) -> Iterator[tuple[usage_index.Job, FileRead, list[tuple[object, ...]]]]:
    to_read = sum(max(0, job.info.size - job.start) for job in jobs)
    count = workers if workers is not None else _cpu_count()
    if count <= 1 or to_read < PARALLEL_MIN_BYTES or len(jobs) < 2:
        for job in jobs:
            yield (job, *usage_index.read_rows(job, launches))
        return
    import multiprocessing  # only a first scan pays for it

    by_size = sorted(jobs, key=lambda job: job.info.size - job.start, reverse=True)  # big ones first
    # fork is cheapest where it is safe (Linux); elsewhere the default (spawn) re-imports scan only
    context = multiprocessing.get_context("fork" if sys.platform.startswith("linux") else None)
    with context.Pool(min(count, len(jobs)), initializer=_set_launches, initargs=(launches,)) as pool:
        for job, (read, rows) in zip(by_size, pool.imap(_read_job, by_size, chunksize=1)):
            yield job, read, rows


_LAUNCHES: Launches = {}


def _set_launches(launches: Launches) -> None:
    global _LAUNCHES
    _LAUNCHES = launches


def _read_job(job: usage_index.Job) -> tuple[FileRead, list[tuple[object, ...]]]:
    return usage_index.read_rows(job, _LAUNCHES)


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
) -> tuple[Report, list[str]]:
    """The report over the index (and the gateway's records), and warnings to print.

    The buckets of a query are cached in the index, keyed on its generation, the window, the
    time zone, what the prices split on and the gateway file's stat: asking again with nothing
    changed costs one lookup, whatever the size of the history.
    """
    warnings: list[str] = []
    with closing(usage_index.open_index(state_dir)) as db:
        key = _cache_key(prices, since, until, gateway_db)
        current = usage_index.generation(db)
        buckets = _cached_buckets(db, key, current)
        if buckets is None:
            requests, problem = load_requests(gateway_db, since, until)
            if problem:
                warnings.append(problem)
            buckets = query_buckets(db, prices, requests, since, until)
            if not problem:
                _cache_buckets(db, key, current, buckets)
    return build_report(buckets, prices=prices, attribute=attribute, by=by), warnings


def _cache_key(prices: Mapping[str, PriceTable], since: float | None, until: float | None, gateway_db: str | None) -> str:
    gateway = []
    for path in (gateway_db, gateway_db + "-wal") if gateway_db else ():
        try:
            st = os.stat(path)
            gateway.append([path, st.st_size, st.st_mtime_ns])
        except OSError:
            gateway.append([path, None])
    zone = [time.timezone, time.altzone, time.daylight, list(time.tzname), os.environ.get("TZ")]
    return json.dumps([since, until, zone, _price_splits(prices), gateway])


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
    try:
        db.execute("DELETE FROM bucket_cache WHERE generation != ?", (current,))
        db.execute("INSERT OR REPLACE INTO bucket_cache VALUES (?, ?, ?)", (key, current, json.dumps(buckets)))
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def query_buckets(
    db: sqlite3.Connection,
    prices: Mapping[str, PriceTable],
    requests: list[GatewayRequest],
    since: float | None,
    until: float | None,
) -> list[Bucket]:
    """Responses grouped by everything their price depends on, so costing is per group.

    A price can depend on the prompt size (tiers), the date (price changes), the hour (off-peak)
    and fast mode: the groups split at every tier threshold and start date found in `prices`, and
    by hour of the week only when some entry has off-peak hours. Gateway records of responses
    that a transcript also holds only lend it their profile; the others are added as they are.
    """
    thresholds, starts, hourly = _price_splits(prices)
    _load_gateway(db, requests)
    prompt = "(input_tokens + cache_read_tokens + cache_write_tokens)"
    tier = " + ".join(f"({prompt} > {int(t)})" for t in thresholds) or "0"
    period = " + ".join(f"(ts >= {float(s)!r})" for s in starts) or "0"
    hour = "-1"
    if hourly:  # split by hour only the models some entry prices by the hour (fewer, larger groups)
        names = ", ".join("'" + name.replace("'", "''") + "'" for name in hourly)
        hour = (f"CASE WHEN model IN ({names}) THEN ((CAST(strftime('%w', ts, 'unixepoch') AS INTEGER) + 6) % 7)"
                " * 24 + CAST(strftime('%H', ts, 'unixepoch') AS INTEGER) ELSE -1 END")
    known = f"coalesce({_GATEWAY_PROFILE}, m.run_profile)" if requests else "m.run_profile"
    window, args = time_window("m.ts", since, until)
    sql = f"""
        SELECT known_profile, session, model, date(ts, 'unixepoch', 'localtime') AS day, min(ts),
               {hour} AS how, min({prompt}), fast, count(*), sum(input_tokens), sum(output_tokens),
               sum(cache_read_tokens), sum(cache_write_tokens), sum(cache_write_1h_tokens),
               {tier} AS tier, {period} AS period
        FROM (
            SELECT {known} AS known_profile, m.session, m.model, m.ts,
                   m.input_tokens, m.output_tokens, m.cache_read_tokens, m.cache_write_tokens,
                   m.cache_write_1h_tokens, m.fast
            FROM messages AS m
            WHERE {window}
            UNION ALL
            SELECT profile, session, model, ts, input_tokens, output_tokens, cache_read_tokens,
                   cache_write_tokens, 0, 0
            FROM temp.gateway WHERE matched = 0
        )
        GROUP BY known_profile, session, model, day, how, fast, tier, period
    """
    return [
        Bucket(r[0], r[1], r[2], r[3], r[4], r[5], r[6], bool(r[7]), *r[8:14])
        for r in db.execute(sql, args)
    ]


# Scalar lookups, not joins: two gateway records of one response must not count it twice.
_GATEWAY_PROFILE = (
    "(SELECT g.profile FROM temp.gateway AS g WHERE g.matched = 1 AND m.message_id != '' "
    "AND g.message_id = m.message_id AND g.profile IS NOT NULL LIMIT 1), "
    "(SELECT g.profile FROM temp.gateway AS g WHERE g.matched = 1 AND m.request_id != '' "
    "AND g.request_id = m.request_id AND g.profile IS NOT NULL LIMIT 1)"
)


def _price_splits(prices: Mapping[str, PriceTable]) -> tuple[list[int], list[float], list[str]]:
    """Every tier threshold and price start date, and the models priced by the hour."""
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
        "message_id TEXT, request_id TEXT, matched INTEGER NOT NULL DEFAULT 0)"
    )
    db.execute("DELETE FROM temp.gateway")
    db.executemany("INSERT INTO temp.gateway VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0)", requests)
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
) -> tuple[Report, ScanStats, list[str]]:
    """update_index then usage_report: what `ccswitch usage` does. The warnings (skipped input,
    an unreadable gateway file) are for one line on stderr each."""
    stats = update_index(state_dir, config_dirs)
    report, warnings = usage_report(
        state_dir, prices=prices, attribute=attribute, gateway_db=gateway_db, since=since, until=until, by=by
    )
    line = stats.warning()
    if line:
        warnings.insert(0, line)
    return report, stats, warnings
