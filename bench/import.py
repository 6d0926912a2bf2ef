"""Benchmark of the subscriber import: speed, and memory that does not grow with the file.

The national team imports partner lists of a few thousand rows, but a merged export of every
CRESS can reach 100,000; the import must stay at 20,000 rows/s or more on a small machine and
use the same memory whatever the file size. This script generates realistic CSV files (French
names, accents, semicolons, some bad and repeated addresses), imports 20,000 then 100,000 rows
into fresh SQLite databases and prints rows/s and peak memory side by side.

Each size runs in its own child process so that its peak resident memory (``ru_maxrss``) is its
own and not the high-water mark of an earlier run.

Run: ``.venv/bin/python bench/import.py`` (``--rows 5000 20000`` for other sizes).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_ROWS_PER_SECOND = 20_000

FIRST_NAMES = [
    "Élise", "Jean", "Marie", "Loïc", "Zoé", "Hélène", "François", "Camille", "Noël", "Inès",
    "Thomas", "Anaïs", "Jérôme", "Léa", "Gaël", "Chloé", "Benoît", "Maëlle", "Étienne", "Sophie",
]  # fmt: skip
LAST_NAMES = [
    "Martin", "Bernard", "Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Rousseau",
    "Bonnet", "Dupont", "Lambert", "Fontaine", "Chevalier", "Robin", "Mercier", "Blanc",
]  # fmt: skip
ORGANISATIONS = [
    "Coopérative du Bocage", "Association Les Jardins Partagés", "Mutuelle Solidaire",
    "Fondation Entraide", "SCIC Énergies Citoyennes", "Régie de quartier Nord", "",
]  # fmt: skip
REGIONS = ["Bretagne", "PACA", "ile de france", "Occitanie", "", "", "Grand Est", "AURA"]
POSTCODES = ["35000", "13001", "75011", "31000", "69003", "67000", "44000", "97400"]


def write_csv(path: Path, rows: int, seed: int = 2016) -> None:
    """A French-Excel-like CSV: semicolons, UTF-8 with BOM, ~1% bad and ~1% repeated rows."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle, delimiter=";")
        writer.writerow(
            ["Courriel", "Prénom", "Nom", "Structure", "Région", "Code postal", "Fonction"]
        )
        for number in range(rows):
            first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
            draw = rng.random()
            if draw < 0.01:
                email = f"{first}.{last}.sans-arobase.fr"  # bad address
            elif draw < 0.02 and number > 10:
                email = f"contact{rng.randrange(number)}@exemple-ess.fr"  # repeated row
            else:
                email = f"contact{number}@exemple-ess.fr"
            writer.writerow(
                [
                    email,
                    first,
                    last,
                    rng.choice(ORGANISATIONS),
                    rng.choice(REGIONS),
                    rng.choice(POSTCODES),
                    rng.choice(["Chargé de mission", "Président", "Bénévole", ""]),
                ]
            )


def run_one(rows: int, list_name: str | None) -> dict[str, float | int]:
    """Generate and import ``rows`` rows; called in a child process."""
    from sqlmodel import Session

    from campaign.audience.importer import import_subscribers
    from campaign.db import open_database
    from campaign.taxonomy import Taxonomy

    with tempfile.TemporaryDirectory() as folder:
        csv_path = Path(folder) / f"abonnes_{rows}.csv"
        write_csv(csv_path, rows)
        engine = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        taxonomy = Taxonomy.from_settings()
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        started = time.perf_counter()
        with Session(engine) as session:
            report = import_subscribers(
                session,
                csv_path,
                list_name=list_name,
                dry_run=False,
                actor="bench",
                taxonomy=taxonomy,
            )
            session.commit()
        elapsed = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        engine.dispose()
    return {
        "list": list_name or "",
        "rows": report.rows,
        "added": report.added,
        "skipped": len(report.skipped),
        "seconds": elapsed,
        "rows_per_second": report.rows / elapsed,
        "peak_rss_mb": rss_after / 1024,
        "import_growth_mb": (rss_after - rss_before) / 1024,
        "file_mb": csv_path.stat().st_size / 1e6 if csv_path.exists() else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[20_000, 100_000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--child-list", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(run_one(args.child, args.child_list or None)))
        return 0

    # Without --list (the target), then the largest size again with --list: each row then also
    # writes a membership and a second consent line, which costs about a tenth more.
    runs = [(rows, "") for rows in args.rows] + [(max(args.rows), "Newsletter nationale")]
    results = []
    for rows, list_name in runs:
        child = subprocess.run(
            [sys.executable, __file__, "--child", str(rows), "--child-list", list_name],
            capture_output=True,
            text=True,
            check=False,
        )
        if child.returncode != 0:
            print(child.stderr, file=sys.stderr)
            return child.returncode
        results.append(json.loads(child.stdout.strip().splitlines()[-1]))

    print(
        f"{'--list':>8} {'rows':>9} {'added':>8} {'skipped':>8} {'seconds':>8} {'rows/s':>9} "
        f"{'peak RSS MB':>12} {'RSS growth during import MB':>28}"
    )
    for result in results:
        print(
            f"{'yes' if result['list'] else 'no':>8} {result['rows']:>9} "
            f"{result['added']:>8} {result['skipped']:>8} "
            f"{result['seconds']:>8.2f} {result['rows_per_second']:>9.0f} "
            f"{result['peak_rss_mb']:>12.1f} {result['import_growth_mb']:>28.1f}"
        )
    without_list = [result for result in results if not result["list"]]
    slowest = min(result["rows_per_second"] for result in without_list)
    verdict = "OK" if slowest >= TARGET_ROWS_PER_SECOND else "BELOW TARGET"
    print(
        f"Slowest without --list: {slowest:.0f} rows/s (target {TARGET_ROWS_PER_SECOND}): "
        f"{verdict}."
    )
    if len(without_list) > 1:
        small, large = without_list[0], without_list[-1]
        print(
            f"Peak memory: {small['peak_rss_mb']:.1f} MB at {small['rows']} rows, "
            f"{large['peak_rss_mb']:.1f} MB at {large['rows']} rows "
            f"({large['rows'] / small['rows']:.0f}x the rows)."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
