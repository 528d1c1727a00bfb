"""`kpi generate --export-era`: the DuckDB SQL written for each GA4 export era runs unchanged on an export of that
era's shape, and each file's header names the era and every export column the statement reads (issue 10 §2).

The export tables are built by `test_sql_attribution_eras` (one per era, the columns the era lacks left out).
The header's column list is checked by running the file on a table holding *only* those columns: a column
missing from the list is a binder error.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest
import test_sql_attribution_eras as eras
from conftest import kpi_app
from typer.testing import CliRunner

from generator.sql.export_shape import ERAS

runner = CliRunner()
_COLUMNS_LINE = re.compile(r"^-- Export columns it reads: (.*?)\.$", re.S | re.M)


def _header(text: str) -> str:
    """The header's comment lines joined (wrapped lines continue with `--   `)."""
    lines = [line[3:] for line in text.splitlines() if line.startswith("-- ")]
    return " ".join(line.strip() for line in lines)


def _listed_columns(header: str) -> list[str]:
    found = re.search(r"Export columns it reads: (.*?)\. Definition hash", header)
    assert found, header
    return re.findall(r"(\w+)(?: \([^)]*\))?(?:, |$)", found[1])


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory, example_kpis_dir: Path) -> dict[str, Path]:
    out: dict[str, Path] = {}
    for era in ERAS:
        folder = tmp_path_factory.mktemp(f"build-{era}")
        done = runner.invoke(kpi_app(), ["generate", "--kpis", str(example_kpis_dir), "--out", str(folder),
                                         "--export-era", era])
        assert done.exit_code == 0, done.output
        assert f"era `{era}`" in done.output
        out[era] = folder / "queries" / "sql"
    return out


@pytest.mark.parametrize("era", list(ERAS))
def test_each_eras_sql_runs_unchanged_on_that_eras_export(era: str, builds: dict[str, Path]) -> None:
    con = duckdb.connect()
    eras._insert(con)
    con.execute(f"CREATE VIEW events AS {eras.SHAPES[era]}")
    files = sorted((builds[era] / "duckdb").glob("*.sql"))
    assert len(files) >= 10
    channel_rows = 0
    for path in files:
        text = path.read_text()
        header = _header(text)
        assert f"Written for GA4 exports of the era `{era}`" in header
        rows = con.execute(text, {"start_date": eras.DAY1, "end_date": eras.DAY2}).fetchall()
        channel_rows += sum(1 for r in rows if r[1] == "channel")
        # the columns the header lists are all the statement needs: it runs on a table holding only them
        listed = _listed_columns(header)
        assert {"event_date", "event_timestamp", "event_name", "event_params"} <= set(listed), path.name
        con.execute(f"CREATE OR REPLACE TEMP VIEW only_listed AS SELECT {', '.join(listed)} FROM events")
        narrow = text.replace("FROM events", "FROM only_listed")
        assert narrow != text
        assert con.execute(narrow, {"start_date": eras.DAY1, "end_date": eras.DAY2}).fetchall() == rows, path.name
    assert channel_rows > 0  # the channel breakdowns ran, attributed by this era's columns


def test_the_header_names_exactly_the_eras_attribution_columns(builds: dict[str, Path]) -> None:
    for dialect in ("duckdb", "bigquery"):
        listed = {era: set(_listed_columns(_header((builds[era] / dialect / "sessions.sql").read_text())))
                  for era in ERAS}
        assert not listed["legacy"] & {"collected_traffic_source", "session_traffic_source_last_click"}
        assert "collected_traffic_source" in listed["collected"]
        assert "session_traffic_source_last_click" not in listed["collected"]
        assert {"collected_traffic_source", "session_traffic_source_last_click"} <= listed["last_click"]
        header = _header((builds["cross_channel"] / dialect / "sessions.sql").read_text())
        assert "session_traffic_source_last_click (cross_channel_campaign, google_ads_campaign, manual_campaign)" in header
        assert "event_params (ga_session_id, page_location)" in header
        last_click = _header((builds["last_click"] / dialect / "sessions.sql").read_text())
        assert "session_traffic_source_last_click (google_ads_campaign, manual_campaign)" in last_click


def test_an_unknown_era_is_refused_with_the_choices(example_kpis_dir: Path, tmp_path: Path) -> None:
    done = runner.invoke(kpi_app(), ["generate", "--kpis", str(example_kpis_dir), "--out", str(tmp_path),
                                     "--export-era", "2023"])
    assert done.exit_code == 2
    assert "legacy" in done.output and "cross_channel" in done.output
