"""The generator's `kpi` commands: validate, schema, generate, diff, check-events, explain."""
