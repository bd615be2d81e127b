"""The ``f1pipe`` command line: thin commands over the library, one section per stage.

Every command reads settings first (a bad value stops it with one line) and turns
:class:`~f1pipe.errors.F1PipeError` into ``error: <message>`` and a non-zero exit status.
"""

from __future__ import annotations

import sys

import typer
from rich.console import Console

from f1pipe.config import Settings, load_settings
from f1pipe.errors import F1PipeError

app = typer.Typer(
    help="f1pipe: FastF1 -> Kafka -> object store -> warehouse.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
stack_app = typer.Typer(help="Run the local stack (a real Apache Kafka broker).",
                        no_args_is_help=True)
app.add_typer(stack_app, name="stack")

console = Console(stderr=True)


def settings(**overrides) -> Settings:
    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


# --- stack -------------------------------------------------------------------------------


@stack_app.command("up")
def stack_up(
    timeout: float = typer.Option(90.0, help="Seconds to wait for the broker to answer."),
) -> None:
    """Start the local Kafka broker (KRaft, single node) and wait until it answers."""
    from f1pipe.stack.kafka import KafkaBroker

    broker = KafkaBroker(settings())
    info = broker.up(timeout=timeout, log=console.print)
    console.print(f"kafka: running at {info.bootstrap} (pid {info.pid}), log {info.log_file}")


@stack_app.command("fetch")
def stack_fetch() -> None:
    """Fetch the Kafka broker jars (once; later calls reuse them)."""
    from f1pipe.stack.kafka import KafkaBroker

    console.print(f"kafka: jars in {KafkaBroker(settings()).libs()}")


@stack_app.command("down")
def stack_down() -> None:
    """Stop the local Kafka broker and wait until it has exited."""
    from f1pipe.stack.kafka import KafkaBroker

    stopped = KafkaBroker(settings()).down()
    console.print("kafka: stopped" if stopped else "kafka: was not running")


@stack_app.command("status")
def stack_status() -> None:
    """Say whether the local Kafka broker is running, where, and since when."""
    from f1pipe.stack.kafka import KafkaBroker

    info = KafkaBroker(settings()).status()
    if info is None:
        typer.echo("kafka: not running")
        raise typer.Exit(3)
    typer.echo(
        f"kafka: running at {info.bootstrap} (pid {info.pid}) since {info.started_at}, "
        f"data {info.data_dir}, log {info.log_file}"
    )


# --- run: the whole pipeline ---------------------------------------------------------------


@app.command("run")
def run(
    season: int = typer.Option(..., help="Championship year, e.g. 2024."),
    round_: int | None = typer.Option(None, "--round", help="One round; default: the season."),
    session: str = typer.Option("R", help="FastF1 session identifier: R, Q, S, SQ, FP1..."),
    datasets: str = typer.Option("results", help="Comma-separated: results,laps,race_control,"
                                 "weather,track_status (all but results need --round)."),
    allow_missing: bool = typer.Option(False, help="Exit 0 even if some data is not available."),
) -> None:
    """Run produce >> consume >> load >> check in one process, with a summary at the end."""
    from f1pipe.pipeline import PipelineRequest, run_pipeline
    from f1pipe.reporting import print_pipeline_summary

    config = settings()
    request = PipelineRequest(season=season, round=round_, session=session,
                              datasets=tuple(d.strip() for d in datasets.split(",") if d.strip()),
                              allow_missing=allow_missing)
    with console.status("starting") as status:
        summary = run_pipeline(config, request, on_step=lambda name: status.update(f"{name}..."))
    print_pipeline_summary(summary, config)


# --- entry point -------------------------------------------------------------------------


def main() -> None:
    try:
        app()
    except F1PipeError as exc:
        console.print(f"[red]error:[/red] {exc}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
