"""Typer face of ``mlopsctl test`` (help, completion); the work is in :mod:`.testing`."""

from __future__ import annotations

import typer

from mlopsctl.cli import testing
from mlopsctl.cli.options import JsonOpt


def register(app: typer.Typer) -> None:
    @app.command(
        "test",
        context_settings={"allow_extra_args": True, "ignore_unknown_options": False},
    )
    def test(
        ctx: typer.Context,
        suites: list[str] | None = typer.Argument(
            None,
            help="unit, integration, e2e, performance, security or all "
            "(default: unit integration e2e).",
        ),
        stage: str | None = typer.Option(
            None, "--stage", help="Only stage X or substage X.Y (exact: 6.1 never picks 6.10)."
        ),
        cov: bool = typer.Option(
            False, "--cov", help="Measure coverage of the project's package across the suites."
        ),
        cov_fail_under: float | None = typer.Option(
            None,
            "--cov-fail-under",
            help="Coverage gate in percent (default: mlops.yaml tests.coverage_gate, 80).",
        ),
        junit_xml: str | None = typer.Option(
            None, "--junit-xml", help="Write one JUnit XML report for the whole run."
        ),
        workers: str | None = typer.Option(
            None, "-n", help="Parallel workers (N or auto) with pytest-xdist."
        ),
        env_name: str | None = typer.Option(
            None, "--env", help="Load .env.NAME over .env (default: testing)."
        ),
        fail_fast: bool = typer.Option(
            False, "--fail-fast", help="Stop after the first failing suite."
        ),
        json_: bool = JsonOpt,
    ) -> None:
        """Run the test suites in order with pytest under the project's Python.

        Loads .env then .env.NAME into the tests' environment (real variables win) and sets
        TEST_MODE=true. Bash tests tests/<suite>/test_X_Y_*.sh count as one test each.
        Arguments after -- go to pytest. Exit 1 when anything failed or coverage is under
        the gate; a suite with no tests is reported, not failed.
        """
        raise typer.Exit(
            testing.run_tests(
                suites or [],
                stage,
                cov,
                cov_fail_under,
                junit_xml,
                workers,
                env_name,
                fail_fast,
                list(ctx.args),
                json_,
            )
        )
