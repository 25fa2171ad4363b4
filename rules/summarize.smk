"""Summaries: each month's cells for all six periods, chained month to month.

The long windows (year, fiscal year, rolling twelve months, all time) include
earlier months, so a month's summary also depends on the previous month's:
rebuilding an old month cascades forward, oldest first.
"""


rule summarize_month:
    input:
        summary_inputs,
    output:
        marker("summarized", "{month}"),
    log:
        rule_log("summarize_month", "{month}"),
    benchmark:
        rule_benchmark("summarize_month", "{month}")
    resources:
        db_writers=1,
    shell:
        "{HZFLOW} --config {CONFIG_FILE} summarize --month {wildcards.month} --marker {output} > {log} 2>&1"
