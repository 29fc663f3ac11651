"""One SQLite library per process (issue 20.1). A second copy in a process that writes (the
ADBC driver carried its own) deleted the WAL under the other library's connections when it
closed, and every later commit of the process went into the deleted file.

The dashboard and every loader run here on a SQLite file of the test's own (in both passes of
the suite), then the files mapped into this process are searched for SQLite's code: a copy
linked in statically counts as much as a ``libsqlite3.so``."""

from __future__ import annotations

import mmap
from pathlib import Path

from flask import current_app

from hub.analytics import loaders
from hub.models import Workspace
from tests.support.sample_shop import load_sample_shop
from tests.support.ui import login, make_user

# The header every copy of SQLite writes into a database file and checks when opening one.
SQLITE_CODE = b"SQLite format 3\x00"


def mapped_files() -> set[Path]:
    """The files whose code is mapped into this process (its executable, shared libraries)."""
    found = set()
    for line in Path("/proc/self/maps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        # Code is mapped executable: data files (another test's hub.db-shm, say) are left out.
        path = fields[5] if len(fields) == 6 and "x" in fields[1] else ""
        if path.startswith("/") and not path.endswith("(deleted)"):
            found.add(Path(path))
    return found


def holds_sqlite(path: Path) -> bool:
    """Whether ``path`` is an ELF object that contains SQLite."""
    with path.open("rb") as file:
        if file.read(4) != b"\x7fELF":
            return False
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return data.find(SQLITE_CODE) >= 0


def sqlite_libraries() -> list[Path]:
    return sorted(path for path in mapped_files() if holds_sqlite(path))


def test_the_checker_finds_the_sqlite_of_the_stdlib_module() -> None:
    import _sqlite3

    found = sqlite_libraries()
    assert len(found) >= 1
    assert not holds_sqlite(Path(_sqlite3.__file__))  # the binding only: SQLite is beside it


def test_dashboard_and_loaders_leave_one_sqlite_library_in_the_process(
    sqlite_file_session,
) -> None:
    session, ws_id, _path = sqlite_file_session
    load_sample_shop(session, ws_id, orders=120, customers=30, seed=5)
    make_user(session.get(Workspace, ws_id), "analyst@example.com", role="analyst")
    client = current_app.test_client()
    login(client, "analyst@example.com")
    page = client.get("/dashboard")
    assert page.status_code == 200
    assert len(loaders.load_transactions(ws_id)) == 120
    assert len(loaders.load_lines(ws_id)) > 120
    assert len(loaders.load_events(ws_id, properties=True)) >= 120
    assert len(loaders.load_first_orders(ws_id)) > 0
    assert loaders.last_order_time(ws_id) is not None
    assert loaders.order_sources(ws_id)
    found = sqlite_libraries()
    assert len(found) == 1, f"more than one SQLite library in the process: {found}"
