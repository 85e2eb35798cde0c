"""Orchestration: the ingest state machine definition and how it is rendered."""
