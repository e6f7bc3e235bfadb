"""Entry point for the `ccswitch` script and `python -m ccswitch`.

Three doors, lightest first:
- `run` and `env` go to the launcher (no typer: every claude start passes through here);
- a shell's completion request (`_CCSWITCH_COMPLETE`, on every Tab) and the read-only commands in
  their plain forms (`list`, `show NAME`, `status --json`, ...) are answered by `commands` without
  typer, and without rich outside a terminal;
- everything else, and any `--help`, goes to the typer app.
"""

from __future__ import annotations

import gc
import os
import sys

FAST_COMMANDS = ("run", "env", "--resume")  # --resume: what claude's exit hint prints
COMPLETE_VARIABLE = "_CCSWITCH_COMPLETE"
# What a shell reports for `cat`, `git log` and the rest of coreutils when the reader of their pipe
# has gone (`ccswitch list | head -1`): 128 + SIGPIPE. A script under `set -o pipefail` sees
# ccswitch end the way those tools do.
CLOSED_PIPE_STATUS = 141
# errno's names for a full disk, a quota, a file too large, a dead device (errno itself is imported
# only when one happens).
WRITE_FAILURES = ("ENOSPC", "EDQUOT", "EFBIG", "EIO")


def main() -> None:
    # No collection while the modules load: they all live until exit, and the passes over them
    # cost a `--help` ~5 ms and `env` ~2 ms (bench/startup.py). _collect_from_now turns it back on.
    gc.disable()
    try:
        try:
            _dispatch(sys.argv[1:])
        finally:
            # Inside the try: output still buffered when the command returns meets the closed pipe
            # here, not in the interpreter's last flush (which would print "Exception ignored").
            if sys.stdout is not None:
                sys.stdout.flush()
    except SystemExit as done:
        _leave_now(done)
        raise
    except BrokenPipeError:
        _quiet_exit(CLOSED_PIPE_STATUS, sys.stdout, sys.stderr)
    except OSError as error:
        # `ccswitch list > /dev/full`, or a full disk under any write nobody caught: one line. The
        # files ccswitch writes are written atomically, so a failed write changed nothing.
        import errno

        if errno.errorcode.get(error.errno or 0) not in WRITE_FAILURES or error.filename is not None:
            raise
        from ccswitch.errors import CcswitchError, report

        _quiet_exit(report(CcswitchError(f"cannot write: {error.strerror}")), sys.stdout)


def _dispatch(args: list[str]) -> None:
    fast = bool(args) and args[0] in FAST_COMMANDS
    completing = os.environ.get(COMPLETE_VARIABLE, "").startswith("complete_")
    if fast or not completing:  # a Tab stays silent
        _check_cwd()
    if fast:
        # The light front door: no typer, rich or tomlkit on the path of every claude start.
        from ccswitch.launch import front_door

        if not front_door.wants_help(args[1:]):
            _collect_from_now()
            sys.exit(front_door.main(args))
    elif completing:
        from ccswitch.commands import completion

        _collect_from_now()
        status = completion.main(os.environ[COMPLETE_VARIABLE], os.environ)
        if status is not None:
            sys.exit(status)
    else:
        from ccswitch.commands import front_door as read_only

        _collect_from_now()
        status = read_only.main(args)
        if status is not None:
            sys.exit(status)
        gc.disable()
    # Everything else (and any --help) pays for typer.
    from ccswitch.cli.app import app

    _collect_from_now()
    streams = sys.stdout, sys.stderr
    try:
        app(prog_name="ccswitch")
    except SystemExit:
        # click answers EPIPE itself (exit 1): it swaps both streams for wrappers that swallow the
        # last flush, and nothing else swaps them. Leave the way the other doors do.
        if sys.stdout is not streams[0] or sys.stderr is not streams[1]:
            raise BrokenPipeError from None
        raise


def _collect_from_now() -> None:
    """The garbage collector back on, for what the command allocates (a gateway in the foreground
    runs for hours); what was loaded so far is set aside (gc.freeze), never walked again."""
    gc.freeze()
    gc.enable()


def _check_cwd() -> None:
    """Every command reads the current directory (pins, project settings); one deleted under the
    shell (`rm -rf` of the directory you stand in) fails every getcwd()."""
    try:
        os.getcwd()
    except FileNotFoundError:
        from ccswitch.errors import UsageError, report

        sys.exit(report(UsageError("the current directory no longer exists (deleted?); cd to one that does")))


def _leave_now(done: SystemExit) -> None:
    """End the process without tearing the interpreter down when nothing is left to do at exit:
    freeing every module and object costs a `--help` (typer, click) about as much as running it,
    and `env` a quarter of its start (bench/startup.py). Only for a plain status, output flushed,
    with no atexit callback and no other thread (a usage scan's process pool registers one, the
    gateway has a record writer): then a normal exit would do nothing more."""
    import atexit

    pending = getattr(atexit, "_ncallbacks", None)  # CPython's; elsewhere, exit the usual way
    threading = sys.modules.get("threading")
    if pending is None or pending() or (threading is not None and threading.active_count() > 1):
        return
    code = done.code
    if code is not None and not isinstance(code, int):
        return  # sys.exit("message"): the interpreter prints it
    try:
        for stream in (sys.stdout, sys.stderr):
            if stream is not None:
                stream.flush()
    except (OSError, ValueError):
        return  # let the handlers above and the interpreter deal with it
    os._exit(code or 0)


def _quiet_exit(status: int, *streams: object) -> None:
    """End without another word, as the Python docs advise for a closed pipe (signal, "Note on
    SIGPIPE"): what is still buffered for `streams` goes to devnull, so that the interpreter's
    final flush cannot fail again and print "Exception ignored"."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    for stream in streams:
        if stream is not None:
            try:
                os.dup2(devnull, stream.fileno())  # type: ignore[attr-defined]
            except (OSError, ValueError):
                pass
    os.close(devnull)
    sys.exit(status)


if __name__ == "__main__":
    main()
