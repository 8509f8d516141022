"""Imports every component package so that their scenario tables and presets are registered.

Add a line here when a package gains a module that registers tables or presets.
"""
from __future__ import annotations

import device_models.config  # noqa: F401
import harvesters.config  # noqa: F401
import loads.config  # noqa: F401
import firmware_bridge.config  # noqa: F401
