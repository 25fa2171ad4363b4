"""Summaries: each complete month's cells for all six periods, chained month to month.

The long windows (year, fiscal year, rolling twelve months, all time)
include earlier months, so a month's summary also depends on the previous
month's: rebuilding an old month cascades forward, oldest first.
"""


rule summarize:
    input:
        month_inputs(registry.SUMMARY),
    output:
        marker(registry.SUMMARY, "{month}"),
    log:
        rule_log("summarize", "{month}"),
    benchmark:
        rule_benchmark("summarize", "{month}")
    priority: month_priority
    conda:
        "../envs/hzflow.yaml"
    resources:
        **WRITER,
    params:
        hzflow=HZFLOW,
        hub=hub_args,
    shell:
        "{params.hzflow} {params.hub} summarize --month {wildcards.month} "
        "--marker {output} > {log} 2>&1"
