"""What ``resilio check-config`` (and ``serve`` at start) refuses beyond the catalog's schema.

The schema says a file is well formed; this says the bot it describes can do its
job: every service has someone to page, every runbook a service names exists,
every runbook directory is there and every runbook in it is valid, and each
runbook's verify checks read signals the services it runs on actually report.
Each problem is one line ``file: path: reason``, and all of them are reported at
once, so a fix-and-retry loop takes one round, not one per mistake.
"""

from __future__ import annotations

from pathlib import Path

from bot.config.catalog import Catalog, Service
from runbooks.loader import RunbookError, load_directories, verify_signal_problems
from runbooks.models import Runbook


def catalog_base(catalog: Catalog) -> Path:
    """The folder relative ``runbooks.directories`` entries are read from."""
    source = Path(catalog.source)
    return source.parent if source.is_file() else Path.cwd()


def runbook_directories(catalog: Catalog) -> list[Path]:
    base = catalog_base(catalog)
    return [Path(d) if Path(d).is_absolute() else base / d
            for d in catalog.runbooks.directories]


def owner_problems(catalog: Catalog) -> list[str]:
    """A service nobody owns would open incidents that page no one."""
    problems = []
    for index, service in enumerate(catalog.services):
        where = f"{catalog.source}: services[{index}].owners"
        if not service.owners:
            problems.append(f"{where}: {service.name!r} has no owners: add at least "
                            "`default: {users: [U...]}` so its incidents page someone")
            continue
        for label, owners in service.owners.items():
            if not owners.users and not owners.groups:
                problems.append(f"{where}.{label}: names no user and no group")
    return problems


def reported_signals(service: Service) -> set[str]:
    """The signals a service is known to report: its declared signals and its SLOs' inputs."""
    names = {spec.name for spec in service.signals}
    for slo in service.slos:
        names |= {n for n in (slo.sli.signal, slo.sli.good, slo.sli.bad, slo.sli.total) if n}
    return names


def runbook_scope(catalog: Catalog, runbook: Runbook) -> list[Service]:
    """The services that name this runbook (``runbooks:``) or that it names (``applies_to``)."""
    return [s for s in catalog.services
            if runbook.name in s.runbooks or s.name in runbook.applies_to.services]


def runbook_problems(catalog: Catalog) -> list[str]:
    """Runbook files, the runbook names services use, and the signals verify steps read."""
    problems = []
    directories = runbook_directories(catalog)
    for d_index, directory in enumerate(directories):
        if not directory.is_dir():
            problems.append(f"{catalog.source}: runbooks.directories[{d_index}]: "
                            f"{str(directory)!r} is not a directory")
    try:
        library = load_directories([d for d in directories if d.is_dir()],
                                   shell_allowlist=catalog.runbooks.shell_allowlist)
    except RunbookError as error:
        problems += error.problems
        library = error.loaded
    known = ", ".join(sorted(library)) or "none"
    for index, service in enumerate(catalog.services):
        for r_index, name in enumerate(service.runbooks):
            if name not in library:
                problems.append(f"{catalog.source}: services[{index}].runbooks[{r_index}]: "
                                f"unknown runbook {name!r} (known: {known})")
    for runbook in library.values():
        scope = {s.name: reported_signals(s) for s in runbook_scope(catalog, runbook)}
        problems.extend(verify_signal_problems(
            runbook, {name: signals for name, signals in scope.items() if signals},
            services={s.name for s in catalog.services}))
    return problems


def check_config(catalog: Catalog) -> list[str]:
    """Every problem of the configuration, one line each; empty when it is fit to serve."""
    return owner_problems(catalog) + runbook_problems(catalog)
