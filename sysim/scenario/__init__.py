"""Scenario files: schema, registry of component tables, loading and validation."""
from .loader import Scenario, from_dict, load, loads

__all__ = ["Scenario", "load", "loads", "from_dict"]
