"""Orchestrators."""
