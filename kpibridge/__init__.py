"""KPI Bridge: KPI files as the contract between marketing and IT."""
