"""Run an abkit spec on a Spark cluster: the logs are reduced where they live, and only the
per-variant (or per-look) aggregates come back to the driver.

    spark-submit --master yarn --deploy-mode client \\
        recipes/spark_submit_example.py s3a://bucket/logs/2026-11-20/ spec.toml \\
        --format parquet --output report.json

Locally (what the tests run): ``spark-submit --master 'local[2]'
recipes/spark_submit_example.py data/ab_example.csv data/ab_example.toml --format csv``.

Exit codes as ``abkit gate``: 0 GO, 1 NO-GO, 2 bad input or spec, 3 INCONCLUSIVE. The
driver needs ``pip install "abkit[spark]"``; the executors need nothing but Spark (the
reduction is Spark SQL, no Python UDF).
"""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("logs", help="a path or URL Spark can read (file, folder or glob)")
    parser.add_argument("spec", help="the experiment spec (.toml or .yaml, on the driver)")
    parser.add_argument("--format", choices=["parquet", "csv", "json"], default="parquet",
                        help="the logs' format (csv: a header line; json: JSON Lines)")
    parser.add_argument("--output", help="write the JSON report here (on the driver)")
    args = parser.parse_args(argv)

    from pyspark.sql import SparkSession

    import abkit
    from abkit.errors import AbkitError

    spark = SparkSession.builder.appName("abkit-report").getOrCreate()
    try:
        if args.format == "parquet":
            logs = spark.read.parquet(args.logs)
        elif args.format == "csv":
            # every column as text: abkit parses numbers and times with its own rules
            logs = spark.read.csv(args.logs, header=True, inferSchema=False)
        else:
            logs = spark.read.json(args.logs, primitivesAsString=True)
        try:
            report = abkit.analyze(logs, args.spec)  # a Spark DataFrame is reduced on Spark
        except AbkitError as e:
            print(f"abkit: error: {e}", file=sys.stderr)
            return 2
        print(report.to_text())
        if args.output:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(report.to_json())
        return {"go": 0, "no-go": 1}.get(report.decision, 3)
    finally:
        spark.stop()


if __name__ == "__main__":
    sys.exit(main())
