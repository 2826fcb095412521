"""``abkit serve``: gates over HTTP (``pip install "abkit[serve]"``); see
:mod:`abkit.serve.app` for the routes and :mod:`abkit.serve.config` for the config file."""

from .config import Gate, load_config

__all__ = ["Gate", "create_app", "load_config", "run"]


def create_app(config):  # imported lazily: starlette is an optional dependency
    from .app import create_app as _create

    return _create(config)


def run(config, host: str = "127.0.0.1", port: int = 8686) -> None:
    """Serve ``config`` with uvicorn until interrupted."""
    try:
        import uvicorn
    except ImportError:  # pragma: no cover - the extra is not installed
        from ..errors import AbkitError

        raise AbkitError("abkit serve needs the serve extra",
                         'pip install "abkit[serve]"') from None
    uvicorn.run(create_app(config), host=host, port=port, log_level="warning")
