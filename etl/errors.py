"""Errors the CLI turns into exit codes and messages a person can act on."""


class PrrtError(Exception):
    """Base class: ``exit_code`` is what the CLI returns when this stops a command."""

    exit_code = 1


class ConfigurationError(PrrtError):
    """Bad usage or configuration (environment, mapping file, arguments): exit 2."""

    exit_code = 2


class WarehouseBusy(PrrtError):
    """Another process holds the writer lock: one writer at a time."""

    exit_code = 1


class DeliveryRejected(PrrtError):
    """A structural fault in a delivery: missing file or column, unreadable file.

    The whole delivery is rejected; other centres' deliveries still load.
    """

    exit_code = 1


class BuildFailed(PrrtError):
    """dbt build (models or tests) failed: nothing is published."""

    exit_code = 1


class ExtractWorkerLost(PrrtError):
    """The process extracting a delivery ended before it finished (killed, or out of
    memory): the night stops; what was committed before stays, the rest loads next night."""

    exit_code = 1
