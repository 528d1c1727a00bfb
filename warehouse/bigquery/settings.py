"""Where the export is and what a run may cost: `[bigquery]` in kpibridge.toml, overridden by flags.

```toml
[bigquery]
project = "my-project"            # the project that holds the export (and is billed for the queries)
dataset = "analytics_123456789"   # GA4's export dataset: analytics_<property id>
location = "EU"                   # optional: the dataset's location
max_bytes_billed = 50_000_000_000 # optional: no query may bill more (default 10 GiB)
credentials = "keys/kpi.json"     # optional: a service-account key file; default: Application Default Credentials
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_BYTES_BILLED = 10 * 1024**3  # 10 GiB: about $0.06 at on-demand prices; raise it for large properties
ON_DEMAND_USD_PER_TIB = 6.25  # BigQuery on-demand analysis price (US and EU multi-regions)

# Google's rules: project ids 6-30 lower-case letters, digits, hyphens (optionally "domain.com:" in front);
# dataset ids letters, digits, underscores. Checked before they are put into a statement as identifiers.
_PROJECT = re.compile(r"(?:[a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]")
_DATASET = re.compile(r"[A-Za-z0-9_]{1,1024}")
_TABLE = re.compile(r"(?:(?P<project>[a-z0-9.:-]+)\.)?(?P<dataset>[A-Za-z0-9_]{1,1024})\.(?P<table>[A-Za-z0-9_]{1,1024})")


class SettingsError(ValueError):
    """A setting that is missing or malformed; the message says where to put it."""


@dataclass(frozen=True)
class BigQuerySettings:
    project: str
    dataset: str
    location: str | None = None
    max_bytes_billed: int = DEFAULT_MAX_BYTES_BILLED
    credentials: Path | None = None

    @property
    def export_table(self) -> str:
        """The wildcard table the KPI statements read: `project.dataset.events_*`."""
        return f"{self.project}.{self.dataset}.events_*"

    @property
    def where(self) -> str:
        """"project my-project, dataset analytics_123" for messages."""
        return f"project {self.project}, dataset {self.dataset}"


def resolve_settings(config: dict[str, object], config_path: Path | None, *, project: str | None = None,
                     dataset: str | None = None, location: str | None = None, max_bytes_billed: int | None = None,
                     credentials: Path | None = None) -> BigQuerySettings:
    """Flags win over `[bigquery]` in kpibridge.toml; a missing project or dataset is an error saying where."""
    where = f"[bigquery] in {config_path}" if config_path else "[bigquery] in kpibridge.toml"
    proj = project or _text(config, "project", where)
    data = dataset or _text(config, "dataset", where)
    if not proj or not data:
        missing = " and ".join(n for n, v in (("project", proj), ("dataset", data)) if not v)
        raise SettingsError(f"BigQuery needs a {missing}: pass --project / --dataset, or set them in {where} "
                            "(dataset is GA4's export dataset, analytics_<property id>).")
    if not _PROJECT.fullmatch(proj):
        raise SettingsError(f"{proj!r} is not a Google Cloud project id (6-30 lower-case letters, digits and "
                            "hyphens, e.g. my-project-123).")
    if not _DATASET.fullmatch(data):
        raise SettingsError(f"{data!r} is not a BigQuery dataset id (letters, digits and underscores, "
                            "e.g. analytics_123456789).")
    limit = max_bytes_billed if max_bytes_billed is not None else config.get("max_bytes_billed")
    if limit is None:
        limit = DEFAULT_MAX_BYTES_BILLED
    if isinstance(limit, bool) or not isinstance(limit, int) or limit <= 0:
        raise SettingsError(f"max_bytes_billed must be a positive whole number of bytes (in {where}), "
                            f"not {limit!r}; e.g. 50_000_000_000 for 50 GB.")
    key = credentials or (Path(str(config["credentials"])) if config.get("credentials") else None)
    if key is not None and config_path is not None and credentials is None and not key.is_absolute():
        key = config_path.parent / key
    if key is not None and not key.is_file():
        raise SettingsError(f"The service-account key file {key} does not exist.")
    return BigQuerySettings(proj, data, location or _text(config, "location", where), limit, key)


def parse_write_table(value: str, settings: BigQuerySettings) -> tuple[str, str, str]:
    """`--write-table DATASET.TABLE` (or PROJECT.DATASET.TABLE) → (project, dataset, table)."""
    match = _TABLE.fullmatch(value)
    if not match:
        raise SettingsError(f"--write-table {value!r} is not DATASET.TABLE (e.g. reporting.kpi_values).")
    return match["project"] or settings.project, match["dataset"], match["table"]


def _text(config: dict[str, object], key: str, where: str) -> str | None:
    value = config.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SettingsError(f"{key} in {where} must be text in quotes, e.g. {key} = \"...\".")
    return value


def human_bytes(n: int) -> str:
    for unit, size in (("TiB", 1024**4), ("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if n >= size:
            return f"{n / size:,.2f} {unit}"
    return f"{n:,} bytes"


def on_demand_usd(n: int) -> float:
    return n / 1024**4 * ON_DEMAND_USD_PER_TIB
