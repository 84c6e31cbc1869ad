"""structlog configuration: JSON lines with bound IDs; never secrets or images."""
from __future__ import annotations

import logging

import structlog


def configure_logging(level: str = "INFO", *, json: bool = True) -> None:
    """Configure structlog and the standard library root logger once per process."""
    logging.basicConfig(level=level.upper(), format="%(message)s")
    renderer: structlog.types.Processor = (structlog.processors.JSONRenderer() if json
                                           else structlog.dev.ConsoleRenderer())
    structlog.configure(
        processors=[structlog.contextvars.merge_contextvars,
                    structlog.processors.add_log_level,
                    structlog.processors.TimeStamper(fmt="iso", utc=True),
                    structlog.processors.format_exc_info,
                    renderer],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping().get(level.upper(), logging.INFO)),
        cache_logger_on_first_use=True,
    )
