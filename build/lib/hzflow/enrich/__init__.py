"""Enrichment of a month's rows before sessions are built: hub data, DNS, domain, country."""
