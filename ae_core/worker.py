"""The training worker process: one training per process, off the web server's interpreter.

`python -m ae_core.worker` reads one JSON request on its stdin,
    {"spec": {JobSpec fields}, "name": str, "root": str, "threads": int, "nice": int}
trains and saves it with `jobs.run_job` (the same code the in-process runner uses), and writes one
JSON object per line to its stdout: the same events `jobs.Job.apply` reads ({"status": "running"},
progress ticks, one {"loss": ...} per epoch, then one final {"status": "done" | "cancelled" |
"failed"}). Nothing is unpickled on either side: the request and the events are JSON, the dataset
is loaded here by its registry name (or from the .npz file the app wrote, never with pickle), and the
model goes to the store's atomic save, so a worker killed at any moment leaves no half-written model.

After the request, stdin carries commands: a line "cancel" asks the training to stop at its next
step, and end-of-file (the server went away, even by SIGKILL) does the same, so an orphaned worker
stops instead of training for nobody. The worker lowers its own priority (`os.nice`) and bounds
torch's threads before it trains, so the server's own thread keeps its core for the visitors.
"""
from __future__ import annotations

import json
import os
import sys
import threading


def _watch_stdin(stream, stop: threading.Event) -> None:
    # Any line but "cancel" is ignored; EOF means the parent is gone.
    for line in stream:
        if line.strip() == "cancel":
            stop.set()
    stop.set()


def lower_priority(nice: int) -> None:
    """Make the training yield the CPU to the server. The worker runs in a session of its own (so that
    it can be killed as a group), and on Linux with autogroup scheduling a new session is a new
    scheduling group: the CPU is shared between *groups* first, and a process's nice value only ranks
    it inside its own group. `os.nice` alone then leaves the worker with the same weight as the whole
    server; the group's nice (`/proc/self/autogroup`) is what ranks it below the server."""
    if hasattr(os, "nice"):
        os.nice(nice)
    try:
        with open("/proc/self/autogroup", "w") as f:
            f.write(str(nice))
    except OSError:  # no autogroup (other OSes, kernels without it): the plain nice value is enough
        pass


def main() -> int:
    # stdout is the event channel: anything a library prints goes to stderr instead.
    events = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    req = json.loads(sys.stdin.readline() or "{}")
    if req.get("nice"):
        lower_priority(int(req["nice"]))
    threads = max(1, int(req.get("threads") or 1))
    import torch

    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # already fixed once any parallel work ran: keep it
        pass
    from . import jobs

    stop = threading.Event()
    threading.Thread(target=_watch_stdin, args=(sys.stdin, stop), daemon=True, name="stdin").start()
    lock = threading.Lock()

    def report(event: dict) -> None:
        with lock:
            try:
                events.write(json.dumps(event) + "\n")
            except (BrokenPipeError, ValueError):  # the server is gone: keep quiet, the stop flag is set
                stop.set()

    spec = jobs.spec_from_dict(req.get("spec") or {})
    jobs.run_job(spec, req.get("name") or spec.name, req.get("root"), report=report, should_stop=stop.is_set)
    return 0


if __name__ == "__main__":
    sys.exit(main())
