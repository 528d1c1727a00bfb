"""`python -m kpibridge` is `kpi`."""

from .cli import main

main()
