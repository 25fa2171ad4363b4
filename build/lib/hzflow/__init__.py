"""hzflow: the usage-metrics pipeline for HUBzero science gateways."""

from functools import cache


@cache
def version() -> str:
    """The installed hzflow version (printed by --version and recorded in every marker)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("hzflow")
    except PackageNotFoundError:
        return "0+unknown"
