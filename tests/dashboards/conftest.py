"""Fixtures for the dashboard tests: a serving database built to the contract, and AppTest runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

sys.path.insert(0, str(Path(__file__).parent))

from fixture_warehouse import Fixture, build_serving_db  # noqa: E402

from dashboards.data import SERVING_ENV  # noqa: E402

APP = Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py"


@pytest.fixture(scope="session")
def warehouse(tmp_path_factory) -> Fixture:
    """The small fixture: its store path is `.../warehouse.duckdb`, the serving file beside it."""
    folder = tmp_path_factory.mktemp("warehouse")
    return build_serving_db(folder / "warehouse.serving.duckdb")


@pytest.fixture(autouse=True)
def _clear_streamlit_caches():
    # st.cache_data is process-wide: without this, one test's database leaks into the next.
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()


@pytest.fixture
def app(monkeypatch):
    """Make an AppTest of the dashboard on a serving database, with query parameters."""

    def make(serving_db: Path, **query_params: str) -> AppTest:
        monkeypatch.setenv(SERVING_ENV, str(serving_db))
        test = AppTest.from_file(str(APP), default_timeout=30)
        for key, value in query_params.items():
            test.query_params[key] = value
        return test

    return make
