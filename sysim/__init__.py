"""sysim: a simulator for self-powered sensor nodes.

    import sysim
    scenario = sysim.load("beacon.toml")
    result = sysim.simulate(scenario)
    result.summary; result.trace; result.plot("report.png"); result.to_csv("trace.csv")
"""
from .api import simulate
from .errors import ScenarioError
from .result import Result
from .scenario.loader import Scenario, from_dict, load, loads

__version__ = "0.1.0"
__all__ = ["load", "loads", "from_dict", "simulate", "Scenario", "Result", "ScenarioError", "__version__"]
