"""Fixtures for `kpi refresh --engine bigquery`: a bqemulator holding the demo export, and the real CLI."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
from bq_emulator import PROJECT, load_table, running_emulator
from bq_helpers import BOTH, DATASET, DEMO, INTRADAY_ONLY, ONE_KPI, example_kpis

from warehouse.sources.demo import iter_demo_days


@pytest.fixture(scope="session")
def demo_days() -> dict[str, pa.Table]:
    return dict(iter_demo_days(**DEMO))


@pytest.fixture(scope="session")
def emulator(demo_days: dict[str, pa.Table]) -> Iterator[str]:
    """The emulator's URL, with the demo export loaded as GA4 names its tables."""
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import bigquery

    with running_emulator() as url:
        os.environ["BIGQUERY_EMULATOR_HOST"] = url
        try:
            client = bigquery.Client(project=PROJECT, credentials=AnonymousCredentials())
            client.create_dataset(DATASET, exists_ok=True)
            for day, table in demo_days.items():
                name = f"events_intraday_{day}" if day == INTRADAY_ONLY else f"events_{day}"
                load_table(client, f"{PROJECT}.{DATASET}.{name}", table)
            stale = demo_days[BOTH].slice(0, 50)  # what the intraday table held before the daily one completed
            load_table(client, f"{PROJECT}.{DATASET}.events_intraday_{BOTH}", pa.concat_tables([stale, stale]))
        finally:
            del os.environ["BIGQUERY_EMULATOR_HOST"]
        yield url


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A team's folder: the example KPIs and a kpibridge.toml naming the export."""
    folder = tmp_path / "project"
    example_kpis(folder / "kpis")
    (folder / "kpibridge.toml").write_text(f'[bigquery]\nproject = "{PROJECT}"\ndataset = "{DATASET}"\n')
    return folder



@pytest.fixture
def one_kpi_project(project: Path) -> Path:
    """The team's folder with one KPI file left (`sessions`): for the tests of what happens around the statements
    (a retried 5xx, a dry run), where each statement on the emulator costs seconds and more KPIs test nothing more."""
    for path in (project / "kpis").rglob("*.yaml"):
        if path.parent != project / "kpis" and path.stem != ONE_KPI:
            path.unlink()
    return project


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep this folder's tests on one pytest-xdist worker: they share one emulator (`emulator`, started once per
    worker, with the demo export loaded into it), so a second worker would start and load a second one."""
    here = Path(__file__).parent
    for item in items:
        if here in item.path.parents:
            item.add_marker(pytest.mark.xdist_group("bigquery"))
