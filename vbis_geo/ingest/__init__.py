"""Ingest: read -> validate -> reproject -> load. Every write path into PostGIS lives here."""
