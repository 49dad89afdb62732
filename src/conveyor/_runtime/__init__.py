"""The runtime: claim, execute, settle. It is handed a registry and a store; it never imports the app."""

from ._runner import DEFAULT_SLOTS, Runner, RunnerOptions

__all__ = ["DEFAULT_SLOTS", "Runner", "RunnerOptions"]
