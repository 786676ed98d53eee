"""`manage.py generate_national_data --scale N`: national-scale data for the benchmark."""

import time
from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from council.national_data import GenerationError, Plan, generate


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"--as-of {value!r} is not a date (YYYY-MM-DD)") from None


class Command(BaseCommand):
    help = (
        "Fill an empty pipeline with national-scale data: at --scale 1, 300 candidates, 120 studies, "
        "80 consented policies (+12 in the pipeline) with versions, consent rounds, 5 fiscal years of quarterly "
        "reports and adoption by all 1,788 local governments (~6 changes each), and 2,000 users. Deterministic for a "
        "given --seed and --as-of; refuses a database that already has candidates or policies."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--scale", type=float, default=1.0, help="multiplies policies and everything under them")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--as-of", dest="as_of", default=None, help="the 'today' of the data (default: today in Tokyo)")
        parser.add_argument("--policies", type=int, default=None, help="consented policies (overrides --scale)")
        parser.add_argument("--changes-per-adoption", dest="changes", type=float, default=6.0,
                            help="mean length of each adoption row's history (default 6)")

    def handle(self, *args, **options) -> None:
        as_of = _date(options["as_of"]) if options["as_of"] else None
        started = time.perf_counter()
        try:
            plan = Plan.for_scale(options["scale"], seed=options["seed"], as_of=as_of, policies=options["policies"],
                                  changes_per_adoption=options["changes"])
            self.stdout.write(
                f"Generating {'scale ' + format(plan.scale, 'g') if options['policies'] is None else 'with --policies'} (seed {plan.seed}, as of {plan.as_of}): {plan.candidates} candidates, "
                f"{plan.studies} studies, {plan.policies} consented + {plan.pipeline_policies} other policies, {plan.users} users"
            )
            summary = generate(plan, log=lambda message: self.stdout.write(f"  {message}"))
        except GenerationError as exc:
            raise CommandError(f"nothing generated: {exc}") from None
        elapsed = time.perf_counter() - started
        for label, count in sorted(summary.counts.items()):
            self.stdout.write(f"  {label:<32} {count:>10,}")
        self.stdout.write(f"  aggregates rebuilt: {summary.aggregates}")
        self.stdout.write(self.style.SUCCESS(f"Generated in {elapsed:.1f} s."))
