"""Fixtures of the engine tests."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def spark_session():
    """One local Spark session for the test session (2 cores, 2 shuffle partitions, no UI);
    the Spark cases are skipped when pyspark is not installed."""
    pytest.importorskip("pyspark", reason="pyspark is not installed "
                        '(pip install -e ".[dev,spark]")')
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("abkit-tests")
             .config("spark.sql.shuffle.partitions", "2").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.session.timeZone", "UTC")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    return spark
