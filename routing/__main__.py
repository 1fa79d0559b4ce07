"""`python -m routing solve problem.json [--time-limit S] [--seed N] [--threads T]`

Reads a problem file (see routing/io.py), prints the result as JSON on stdout.
Exit status: 0 feasible, 1 solved but infeasible (see "violations" and
"unassigned"), 2 the problem file is invalid.
"""

from __future__ import annotations

import argparse
import json
import sys

from routing.io import ProblemFileError, read_problem
from routing.solve import solve
from routing.travel import OsrmError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m routing", description="FieldForce route optimizer")
    commands = parser.add_subparsers(dest="command", required=True)
    solve_cmd = commands.add_parser("solve", help="solve a problem file and print the result as JSON")
    solve_cmd.add_argument("problem", help="problem JSON file ('-' for standard input)")
    solve_cmd.add_argument("--time-limit", type=float, default=10.0, help="seconds (default 10)")
    solve_cmd.add_argument("--seed", type=int, default=0, help="random seed of the search (default 0)")
    solve_cmd.add_argument("--threads", type=int, default=1, help="parallel searches (default 1)")
    solve_cmd.add_argument("--summary", action="store_true", help="also print a human summary on stderr")
    args = parser.parse_args(argv)
    try:
        if args.problem == "-":
            from routing.io import problem_from_json

            problem = problem_from_json(json.load(sys.stdin))
        else:
            problem = read_problem(args.problem)
    except (ProblemFileError, OSError, json.JSONDecodeError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except OsrmError as exc:
        print(f"error: travel matrix: {exc}", file=sys.stderr)
        return 2
    if args.time_limit <= 0 or args.threads < 1:
        print("error: --time-limit must be positive and --threads at least 1", file=sys.stderr)
        return 2
    result = solve(problem, time_limit=args.time_limit, seed=args.seed, threads=args.threads)
    json.dump(result.to_json(), sys.stdout, indent=2)
    sys.stdout.write("\n")
    if args.summary:
        print(result.summary(), file=sys.stderr)
    return 0 if result.is_feasible() else 1


if __name__ == "__main__":
    sys.exit(main())
