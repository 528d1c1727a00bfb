"""A refresh with nothing new, asked again (`warehouse/settled.py`, issue 13): it prints what the refresh that found
nothing new printed, without compiling the KPI files or importing sqlglot and pyarrow; anything that refresh read
changing (a KPI file, a load, the serving copy, the record itself) and it is the usual refresh again.

The commands run as a user runs them: in a child process where what was imported is seen, else typer's CliRunner.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import duckdb
import pytest
import typer
from kpi_runs import kpi, rows
from rich.console import Console
from typer.testing import CliRunner

from generator.cli.compile_or_exit import compiled_or_exit
from kpibridge.cli import app as kpi_app
from warehouse.settled import inputs_digest

REPO = Path(__file__).resolve().parents[2]
END = date(2026, 3, 31)
HEAVY = ("sqlglot", "pyarrow", "generator.compile")
CHILD = f"""
import sys
HEAVY = {HEAVY!r}
from kpibridge.cli import main
sys.argv = ["kpi", *sys.argv[1:]]
try:
    main()
finally:
    print("IMPORTED " + " ".join(m for m in HEAVY if m in sys.modules), file=sys.stderr)
"""


@pytest.fixture
def project(tmp_path: Path) -> tuple[Path, Path]:
    """(KPI folder, store): the example KPIs over 12 demo days, refreshed once, and a KPI file with a filter the
    data does not bear out (so a refresh prints a finding)."""
    kpis = tmp_path / "kpis"
    shutil.copytree(REPO / "kpis", kpis)
    leads = kpis / "leads" / "email_sign_ups.yaml"
    leads.write_text(leads.read_text().replace("{param: method, equals: email}", "{param: method, equals: emial}"))
    store = tmp_path / "warehouse.duckdb"
    kpi("load", "demo", "--events", 3_000, "--days", 12, "--seed", 5, "--end-date", END, "--db", store)
    kpi("refresh", "--db", store, "--kpis", kpis)
    return kpis, store


def run(kpis: Path, store: Path, *more: str, **env: str) -> subprocess.CompletedProcess[str]:
    """`kpi refresh` in a child process (with `env` added to the environment)."""
    return subprocess.run([sys.executable, "-c", CHILD, "refresh", "--db", str(store), "--kpis", str(kpis), *more],
                          capture_output=True, text=True, cwd=kpis.parent, env={**os.environ, **env}, timeout=300)


def child(kpis: Path, store: Path, *more: str) -> tuple[str, set[str]]:
    """`kpi refresh` in a child process: what it printed, and which of `HEAVY` it imported."""
    done = run(kpis, store, *more)
    assert done.returncode == 0, done.stderr
    imported = next(line for line in done.stderr.splitlines() if line.startswith("IMPORTED"))
    return done.stdout, set(imported.split()[1:])


def without_timing(out: str) -> dict:
    summary = json.loads(out)
    return {k: v for k, v in summary.items() if k not in ("seconds", "phases")}


def test_the_second_refresh_with_nothing_new_prints_the_same_without_compiling(project):
    kpis, store = project
    first, heavy = child(kpis, store, "--format", "json")
    assert heavy == set(HEAVY)  # it found nothing new the usual way, and recorded so
    assert json.loads(first)["unchanged_since"] and json.loads(first)["findings"]
    assert store.with_name("warehouse.settled.json").exists()
    second, heavy = child(kpis, store, "--format", "json")
    assert heavy == set()  # no KPI file compiled, no statement built, no Arrow table
    assert without_timing(second) == without_timing(first)
    text_first, _ = child(kpis, store)  # the text form, from the record too
    assert "Nothing new since the last refresh" in text_first and "emial" in text_first


def test_a_refresh_that_counts_records_what_the_next_one_would_find(project):
    """A refresh that computed, leaving nothing new, records so as a refresh with nothing new does: the first
    refresh with nothing new after it prints from the record exactly what the usual one prints."""
    kpis, store = project
    kpi("load", "demo", "--events", 300, "--days", 1, "--seed", 6, "--end-date", date(2026, 4, 1), "--db", store)
    counted, heavy = child(kpis, store, "--format", "json")
    assert heavy == set(HEAVY) and json.loads(counted)["rows"] > 0
    record = store.with_name("warehouse.settled.json")
    assert record.exists()
    replayed, heavy = child(kpis, store, "--format", "json")
    assert heavy == set()  # nothing compiled
    record.unlink()
    usual, heavy = child(kpis, store, "--format", "json")
    assert heavy == set(HEAVY) and json.loads(usual)["unchanged_since"]
    assert without_timing(replayed) == without_timing(usual)
    text_replayed, _ = child(kpis, store)
    record.unlink()
    text_usual, heavy = child(kpis, store)
    assert heavy == set(HEAVY) and text_replayed == text_usual and "emial" in text_usual


def test_the_first_refresh_after_the_demo_is_answered_from_the_record(tmp_path):
    """`kpi demo` refreshes as `kpi refresh` does, so the refresh a new user runs next, in the same folder, prints
    "nothing new" from the record without compiling the KPI files."""
    shutil.copytree(REPO / "kpis", tmp_path / "kpis")
    demo = subprocess.run([sys.executable, "-c", CHILD, "demo", "--no-serve", "--events", "3000", "--days", "12"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert demo.returncode == 0, demo.stderr
    after = subprocess.run([sys.executable, "-c", CHILD, "refresh"], capture_output=True, text=True, cwd=tmp_path,
                           timeout=300)
    assert after.returncode == 0, after.stderr
    assert "Nothing new since the last refresh" in after.stdout
    assert after.stderr.splitlines()[-1].split() == ["IMPORTED"]  # nothing compiled: from the record


def test_a_refresh_compiles_the_kpi_files_its_digest_read(project):
    """The refresh compiles the bytes its digest read (`inputs_digest`'s sources), not the folder as it is by then:
    a file saved, or added, between the two would be computed and recorded as the files the digest read (found by
    a review: computed with a branch's files, answered "nothing new" once the files were back)."""
    kpis, store = project
    leads = kpis / "leads" / "email_sign_ups.yaml"
    read = compiled_or_exit(kpis, "Nothing was computed").plan.kpis["email_sign_ups"].definition_hash
    digest, sources = inputs_digest(kpis, store)
    leads.write_text(leads.read_text().replace("equals: emial", "equals: email"))
    added = kpis / "leads" / "email_sign_ups_again.yaml"
    added.write_text(leads.read_text().replace("kpi: email_sign_ups", "kpi: email_sign_ups_again"))
    compiled = compiled_or_exit(kpis, "Nothing was computed", sources=sources)
    assert compiled.plan.kpis["email_sign_ups"].definition_hash == read
    assert "email_sign_ups_again" not in compiled.plan.kpis
    now = compiled_or_exit(kpis, "Nothing was computed")
    assert now.plan.kpis["email_sign_ups"].definition_hash != read and "email_sign_ups_again" in now.plan.kpis
    assert inputs_digest(kpis, store)[0] != digest


def test_the_digest_reads_kpi_files_as_the_loader_does(project):
    """A file the loader refuses (over 1 MB) is not read by the digest either: the compile reads it and says what it
    always says; a file that vanished as the digest read it is left out, as the folder's compile leaves it out
    (found by a second review: the bytes were compiled, with another message, and the vanished file an error)."""
    kpis, store = project
    big = kpis / "acquisition" / "huge.yaml"
    big.write_bytes(b"# a comment\n" * 100_000)
    gone = kpis / "acquisition" / "sessions.yaml"
    _, sources = inputs_digest(kpis, store)
    assert sources[big] is None and sources[gone]
    gone.unlink()
    sources[gone] = None  # what the digest has for a file that vanished between listing and reading it

    def printed(**more: object) -> str:
        out = io.StringIO()
        with pytest.raises(typer.Exit):
            compiled_or_exit(kpis, "Nothing was computed", console=Console(file=out, width=200), **more)
        return out.getvalue()

    usual = printed()
    assert "KB101" in usual and "more than the 1.0 MB allowed" in usual and "sessions.yaml" not in usual
    assert printed(sources=sources) == usual


def test_a_folder_without_a_kpi_is_said_not_a_traceback(project, tmp_path):
    _, store = project
    empty = tmp_path / "no_kpis"
    empty.mkdir()
    result = CliRunner().invoke(kpi_app, ["refresh", "--db", str(store), "--kpis", str(empty)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)  # not an IndexError
    assert "No KPI to compute in" in result.output and "Traceback" not in result.output
    drafts = tmp_path / "drafts"
    shutil.copytree(REPO / "kpis" / "acquisition", drafts)
    for path in drafts.glob("*.yaml"):
        path.write_text(path.read_text() + "status: draft\n")
    result = CliRunner().invoke(kpi_app, ["refresh", "--db", str(store), "--kpis", str(drafts)])
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    assert "No active KPI in" in result.output and "status: active" in result.output


def test_the_text_form_is_the_one_the_usual_refresh_prints(project):
    kpis, store = project
    usual, heavy = child(kpis, store)
    assert heavy == set(HEAVY) and "Nothing new since" in usual and "KB" in usual
    again, heavy = child(kpis, store)
    assert heavy == set() and again == usual


def test_a_changed_kpi_file_a_load_or_a_missing_serving_copy_is_the_usual_refresh(project):
    kpis, store = project
    child(kpis, store)  # records
    sessions = kpis / "acquisition" / "sessions.yaml"
    sessions.write_text(sessions.read_text() + "\n# a comment changes no definition\n")
    out, heavy = child(kpis, store, "--format", "json")
    assert heavy == set(HEAVY) and json.loads(out)["unchanged_since"]  # checked again: still nothing new
    assert child(kpis, store)[1] == set()
    serving = store.with_name("warehouse.serving.duckdb")
    served = rows(serving, "SELECT * FROM kpi_values ORDER BY ALL")
    serving.unlink()
    out, heavy = child(kpis, store, "--format", "json")
    assert heavy == set(HEAVY) and rows(serving, "SELECT * FROM kpi_values ORDER BY ALL") == served  # published
    assert child(kpis, store)[1] == set()
    kpi("load", "demo", "--events", 300, "--days", 1, "--seed", 6, "--end-date", date(2026, 4, 1), "--db", store)
    out, heavy = child(kpis, store, "--format", "json")
    summary = json.loads(out)
    assert heavy == set(HEAVY) and summary["unchanged_since"] is None and summary["rows"] > 0  # the new day counted
    assert rows(store, "SELECT max(date) FROM kpi_values") == [(date(2026, 4, 1),)]


def test_a_record_that_does_not_hold_or_a_full_refresh_is_the_usual_refresh(project):
    kpis, store = project
    child(kpis, store)
    record = store.with_name("warehouse.settled.json")
    data = json.loads(record.read_text())
    data["store"][0] = "1 2000-01-01 00:00:00"  # a store as it was at another time
    record.write_text(json.dumps(data))
    assert child(kpis, store)[1] == set(HEAVY)
    record.write_text("{not json")
    out, heavy = child(kpis, store, "--format", "json")
    assert heavy == set(HEAVY) and json.loads(out)["unchanged_since"]
    out, heavy = child(kpis, store, "--full", "--format", "json")
    assert heavy == set(HEAVY) and json.loads(out)["unchanged_since"] is None and json.loads(out)["rows"] > 0


def test_what_the_usual_refresh_would_refuse_or_count_is_never_answered_from_the_record(project):
    """Found by a review of the record: each of these answered "nothing new" from it."""
    kpis, store = project
    child(kpis, store)
    assert child(kpis, store)[1] == set()  # recorded
    wrong = run(kpis, store, "--dry-run")  # an option for BigQuery only
    assert wrong.returncode == 2 and "are for --engine bigquery" in wrong.stderr
    odd = run(kpis, store, KPIBRIDGE_MEMORY_LIMIT="banana")  # a setting the usual refresh refuses
    assert odd.returncode == 1 and "banana" in odd.stderr
    raw = store.with_name("warehouse.raw")
    raw.rename(raw.with_name("elsewhere"))  # a store without its raw files
    gone = run(kpis, store)
    assert gone.returncode == 1 and "not there" in gone.stdout + gone.stderr
    raw.with_name("elsewhere").rename(raw)
    assert child(kpis, store)[1] == set()
    # a day reloaded with a clock behind: as many days, the same latest load, one day's load time another
    with duckdb.connect(str(store)) as con:
        day = con.execute("SELECT min(event_date) FROM loaded_days").fetchall()[0][0]
        con.execute("UPDATE loaded_days SET loaded_at = loaded_at - INTERVAL 1 HOUR WHERE event_date = $d", {"d": day})
    out, heavy = child(kpis, store, "--format", "json")
    assert heavy == set(HEAVY) and json.loads(out)["unchanged_since"] is None and json.loads(out)["rows"] > 0
    assert child(kpis, store)[1] == set()  # the refresh that counted it recorded that nothing was left new
    with duckdb.connect(str(store)) as con:  # a newer KPI Bridge migrated the store (and only added a table)
        con.execute("INSERT INTO schema_version SELECT max(version) + 1, now() FROM schema_version")
        con.execute("CREATE TABLE a_newer_table (x INTEGER)")
    newer = run(kpis, store)
    assert newer.returncode == 1 and "newer than this KPI Bridge" in newer.stdout + newer.stderr
