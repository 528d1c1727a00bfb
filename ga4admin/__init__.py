"""`kpi apply`: register in a GA4 property the custom definitions and key events the KPIs need.

Google's `google-analytics-admin` client, no DuckDB: `wanted` (what the spec needs), `plan` (what to change,
pure), `client` (connection and reading the property), `apply` (the changes), `errors` (GA4's refusals in
one sentence), `cli` (the command).
"""
